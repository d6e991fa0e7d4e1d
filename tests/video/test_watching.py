"""Resume position and completion by unique seconds watched (skip-resistant)."""
import json
from datetime import timedelta

import pytest

from lms.catalog.models import LessonProgress
from lms.extensions import db
from lms.video import watching
from lms.video.models import WatchProgress
from tests.video.conftest import login


def test_merge_counts_overlaps_once_and_keeps_gaps():
    merged = watching.merge([[10, 20], [0, 5], [15, 30], [30, 31], [40, 41]])
    assert merged == [[0, 5], [10, 31], [40, 41]]
    assert watching.total(merged) == 27


def test_clean_drops_junk_and_clamps_to_the_video():
    raw = [[-5, 3], [2, 1], ["a", 4], [1], None, [float("nan"), 3], [95, 500]]
    assert watching.clean_intervals(raw, 100) == [[0.0, 3.0], [95.0, 100.0]]
    assert watching.clean_intervals("not a list", 100) == []


def report(client, world, position, intervals):
    return client.post(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}/watch",
                       data={"position": str(position), "intervals": json.dumps(intervals)})


def age_last_report(seconds: float):
    """Pretend the previous report came `seconds` ago (the player reports every ~10 s)."""
    for row in db.session.scalars(db.select(WatchProgress)):
        row.updated_at = row.updated_at - timedelta(seconds=seconds)
    db.session.commit()


def lesson_completed(world) -> bool:
    row = db.session.scalar(db.select(LessonProgress).where(LessonProgress.lesson_id == world.lesson.id))
    return row is not None and row.completed_at is not None


def test_watching_most_of_the_video_completes_the_lesson(app, world, published):
    client = login(app, world.student)
    first = report(client, world, 1.5, [[0, 1.5]]).json
    assert first["completed"] is False and first["watched_seconds"] == 1.5
    age_last_report(10)
    second = report(client, world, 2.9, [[1.5, 2.9]]).json
    assert second["completed"] is True and lesson_completed(world)
    page = client.get(f"/offerings/{world.offering.id}").get_data(as_text=True)
    assert "1 of 1 lessons completed" in page


def test_seeking_to_the_end_does_not_complete(app, world, published):
    client = login(app, world.student)
    result = report(client, world, 3.0, [[0, 0.5], [2.6, 3.0]]).json
    assert result["watched_seconds"] == pytest.approx(0.9)
    assert result["completed"] is False and not lesson_completed(world)


def test_watching_the_same_part_twice_counts_once(app, world, published):
    client = login(app, world.student)
    report(client, world, 1, [[0, 1]])
    for _ in range(3):
        age_last_report(10)
        result = report(client, world, 1, [[0, 1], [0.5, 1]]).json
    assert result["watched_seconds"] == 1 and not result["completed"]


def test_a_report_claiming_more_than_wall_time_allows_is_ignored(app, world, long_video):
    client = login(app, world.student)
    result = report(client, world, 599, [[0, 599]]).json
    assert result["watched_seconds"] == 0 and result["completed"] is False
    assert result["position"] == 599  # the resume position is still kept


@pytest.fixture
def long_video(published):
    published.duration = 600.0  # a ten-minute lecture, for the wall-clock rule
    db.session.commit()
    return published


def test_resume_position_follows_the_student_to_another_device(app, world, published):
    report(login(app, world.student), world, 2.25, [[0, 2.25]])
    laptop = login(app, world.student)  # a fresh session, as on another device
    page = laptop.get(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}").get_data(as_text=True)
    assert 'data-position="2.25"' in page


@pytest.mark.parametrize("who", ["other_student", "instructor"])
def test_only_enrolled_students_report_watching(app, world, published, who):
    response = report(login(app, getattr(world, who)), world, 1, [[0, 1]])
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(WatchProgress)) == 0


def test_malformed_report_is_a_clear_400(app, world, published):
    client = login(app, world.student)
    response = client.post(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}/watch",
                           data={"position": "1", "intervals": "{not json"})
    assert response.status_code == 400


def test_mark_as_completed_cannot_complete_a_video_lesson_unwatched(app, world, published):
    client = login(app, world.student)
    url = f"/offerings/{world.offering.id}/lessons/{world.lesson.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Mark as completed" not in page and "at least 90 % of it" in page
    refused = client.post(f"{url}/complete", follow_redirects=True)
    assert '<p class="flash flash-error" role="alert">This lesson completes when you have watched its video ' \
        '(at least 90 % of it).</p>' in refused.get_data(as_text=True)
    assert not lesson_completed(world)
