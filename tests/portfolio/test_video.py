"""A video piece plays on the employer's page through the normal HLS player, with media URLs that
need no account, name the link, and stop the moment the link does."""
from __future__ import annotations

import re

from lms.assignments.models import SubmissionKind
from lms.extensions import db
from lms.portfolio.models import PortfolioLink, PortfolioPiece
from lms.video import services as video_services
from lms.video.media_access import Viewer, media_url
from tests.grading.conftest import make_assignment, make_submission
from tests.portfolio.conftest import RELEASED, add, csrf, editor, graded, new_link
from tests.video.conftest import clip, run_jobs  # noqa: F401  the session's ffmpeg clip


def test_a_video_piece_plays_without_an_account_until_the_link_is_revoked(app, world, clip):  # noqa: F811
    reel = make_assignment(world.offering, title="Animation reel", kinds=["video"], released_at=RELEASED)
    with open(clip, "rb") as stream:
        video = video_services.attach_upload(None, world.student.id, stream, "reel.mp4", 10**9)
    db.session.commit()
    run_jobs(app)
    db.session.refresh(video)
    assert video.state == "ready", video.error
    work = make_submission(reel, world.student, kind=SubmissionKind.VIDEO, text=None, video_id=video.id)
    graded(world, reel, world.student, work, "90")
    client, _ = editor(app, world.student)
    add(client, work.id)
    path = new_link(client)
    viewer = app.test_client()  # an employer: no account, no session
    page = viewer.get(path).get_data(as_text=True)
    piece = db.session.scalar(db.select(PortfolioPiece))
    assert f"{path}/pieces/{piece.id}/video" in page and "動画を再生（0:03）" in page  # Japanese by default
    poster = re.search(r'<img src="(/media/[^"]+/poster\.jpg)"', page).group(1)
    assert viewer.get(poster).content_type == "image/jpeg"
    player = viewer.get(f"{path}/pieces/{piece.id}/video").get_data(as_text=True)
    master = re.search(r'data-master="([^"]+)"', player).group(1)
    base = master.rsplit("/", 1)[0]
    listing = viewer.get(master)
    assert listing.status_code == 200 and listing.content_type == "application/vnd.apple.mpegurl"
    rung = re.findall(r"^(\w+)/index\.m3u8$", listing.get_data(as_text=True), re.M)[0]
    segment = re.findall(r"^seg_\d{5}\.ts$", viewer.get(f"{base}/{rung}/index.m3u8").get_data(as_text=True), re.M)[0]
    assert viewer.get(f"{base}/{rung}/{segment}").content_type == "video/mp2t"
    link = db.session.scalar(db.select(PortfolioLink))
    with app.test_request_context():  # a link's URL for a video its portfolio does not show: refused
        other = media_url(video.id + 1000, Viewer(link_id=link.id), "master.m3u8")
    assert viewer.get(other).status_code == 404
    page = client.get("/portfolio").get_data(as_text=True)
    client.post(f"/portfolio/links/{link.id}/revoke", data={"csrf_token": csrf(page)})
    assert viewer.get(master).status_code == 404 and viewer.get(f"{base}/{rung}/{segment}").status_code == 404
    assert viewer.get(f"{path}/pieces/{piece.id}/video").status_code == 404
