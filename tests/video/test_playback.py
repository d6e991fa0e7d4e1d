"""Who may fetch a lesson's playlists, segments, poster and captions, and how the page plays it."""
import re

import pytest

from lms.extensions import db
from tests.video.conftest import login


def master_url(client, world):
    page = client.get(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}").get_data(as_text=True)
    match = re.search(r'data-master="([^"]+)"', page)
    return match.group(1) if match else None


def test_enrolled_student_plays_every_file_of_the_ladder(app, world, published):
    client = login(app, world.student)
    url = master_url(client, world)
    base = url.rsplit("/", 1)[0]
    master = client.get(url)
    assert master.status_code == 200 and master.content_type == "application/vnd.apple.mpegurl"
    for rung in re.findall(r"^(\w+)/index\.m3u8$", master.get_data(as_text=True), re.M):
        playlist = client.get(f"{base}/{rung}/index.m3u8").get_data(as_text=True)
        for segment in re.findall(r"^seg_\d{5}\.ts$", playlist, re.M):
            response = client.get(f"{base}/{rung}/{segment}")
            assert response.status_code == 200 and response.content_type == "video/mp2t"
    assert client.get(f"{base}/poster.jpg").content_type == "image/jpeg"
    # Segments support ranged reads, as players on weak connections use them.
    ranged = client.get(f"{base}/360p/seg_00000.ts", headers={"Range": "bytes=0-187"})
    assert ranged.status_code == 206 and len(ranged.data) == 188


@pytest.mark.parametrize("who", ["instructor", "assistant", "registrar"])
def test_staff_get_the_player_too(app, world, published, who):
    client = login(app, getattr(world, who))
    url = master_url(client, world)
    assert url and client.get(url).status_code == 200


def test_a_copied_media_url_is_useless_to_anyone_else(app, world, published):
    url = master_url(login(app, world.student), world)
    assert login(app, world.other_student).get(url).status_code == 404
    assert login(app, world.instructor).get(url).status_code == 404
    assert app.test_client().get(url).status_code == 302  # anonymous: log in first


def test_other_students_get_no_player(app, world, published):
    client = login(app, world.other_student)
    assert client.get(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}").status_code == 403


def test_tampered_expired_and_odd_urls_are_404(app, world, published):
    client = login(app, world.student)
    url = master_url(client, world)
    token = url.split("/")[2]
    assert client.get(url.replace(token, token[:-2] + "xx")).status_code == 404
    for name in ["../../../instance/secret_key", "360p/../../x", "master.m3u8.bak", "360p/seg_1.ts"]:
        assert client.get(f"/media/{token}/{name}").status_code == 404, name
    app.config["MEDIA_URL_MAX_AGE"] = -1
    assert client.get(url).status_code == 404


def test_unpublished_lessons_media_is_404_to_students(app, world, published):
    student, instructor = login(app, world.student), login(app, world.instructor)
    student_url, instructor_url = master_url(student, world), master_url(instructor, world)
    world.lesson.published = False
    db.session.commit()
    assert student.get(student_url).status_code == 404
    assert instructor.get(instructor_url).status_code == 200


def test_lesson_page_player_markup(app, world, published):
    page = login(app, world.student).get(
        f"/offerings/{world.offering.id}/lessons/{world.lesson.id}").get_data(as_text=True)
    assert "/static/vendor/hls.js/hls.min.js" in page and "https://" not in page.split("<main")[1]
    assert 'id="video-speed"' in page and '<option value="0.75">' in page and '<option value="2">' in page
    assert 'data-audio-only="/media/' in page and "data-watch-url=" in page


def test_lesson_without_a_ready_video_has_no_player(app, world):
    page = login(app, world.student).get(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}")
    assert b"lesson-video" not in page.data


def test_the_page_carries_the_master_playlist_signed_for_its_reader(app, world, published):
    """The player starts without asking for the master (one round trip less on a slow link): the page
    holds it, each playlist in it a URL that works for this student only."""
    import html

    client = login(app, world.student)
    page = client.get(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}").get_data(as_text=True)
    inline = html.unescape(re.search(r'data-master-text="([^"]*)"', page).group(1))
    served = client.get(master_url(client, world)).get_data(as_text=True)
    uris = re.findall(r'URI="([^"]+)"', inline) + [line for line in inline.splitlines() if line and line[0] != "#"]
    assert len(uris) == len(published.renditions)  # the audio rendition and every video rung
    for uri in uris:
        assert uri.startswith("/media/") and uri.endswith("/index.m3u8")
        assert "#EXTINF" in client.get(uri).get_data(as_text=True)
        assert login(app, world.other_student).get(uri).status_code == 404
    same = re.sub(r'URI="[^"]+"', "URI", inline).splitlines()
    assert [line for line in same if line.startswith("#")] == [
        line for line in re.sub(r'URI="[^"]+"', "URI", served).splitlines() if line.startswith("#")]
