"""The instructor who uploaded a lesson video is told when students can watch it."""
from sqlalchemy import select

from lms.extensions import db
from lms.notifications.models import Notification
from tests.video.conftest import login


def test_the_uploader_is_notified_once_when_the_video_is_ready(app, world, published):
    [note] = db.session.scalars(select(Notification)).all()
    assert note.user_id == world.instructor.id and note.kind == "video_ready"
    client = login(app, world.instructor)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Your video for “{world.lesson.title_en}” is ready" in page
    opened = client.post(f"/notifications/{note.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/authoring/lessons/{world.lesson.id}")
    assert 'id="bell-count"' not in client.get("/").get_data(as_text=True)
