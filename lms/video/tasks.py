"""The transcode job: probe → plan → poster → one ffmpeg for every rung → master → publish.

Output goes to a folder of its own per attempt; the lesson's pointer switches in one commit; only
then are older attempts' folders removed. A finished video is left alone if its job runs again.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

from lms.extensions import db
from lms.jobs.attempts import publish_attempt
from lms.jobs.worker import JobContext, PermanentError, handler
from lms.media import ffmpeg
from lms.storage import get_storage
from lms.storage.base import file_sha256 as sha256_of
from lms.video import services
from lms.video.hls import write_master
from lms.video.ladder import SEGMENT_SECONDS, plan_ladder
from lms.video.models import Video, VideoState


@handler(services.TRANSCODE)
def transcode(ctx: JobContext) -> None:
    video = db.session.get(Video, ctx.payload["video_id"])
    if video is None or video.state == VideoState.READY:
        return
    storage = get_storage()
    prefix = f"videos/{video.id}/renditions/attempt-{ctx.attempt}-{secrets.token_hex(4)}"

    def work() -> bool:
        with storage.local_file(video.original_key) as source:  # on S3: downloaded to a scratch folder
            return _transcode(ctx, video, source, prefix)

    publish_attempt(work, prefix=prefix, parent=f"videos/{video.id}/renditions")


def _transcode(ctx: JobContext, video: Video, source: Path, prefix: str) -> bool:
    """Everything up to the publishing flush; False when another attempt published first."""
    config = current_app.config
    try:
        probe = ffmpeg.probe(source, max_duration=config["VIDEO_MAX_SECONDS"])
    except ffmpeg.MediaRejected as exc:
        services.reject(video, str(exc))
        db.session.commit()
        raise PermanentError(str(exc)) from None
    if video.original_sha256 is None:  # sent straight to S3 in parts: nobody has read it whole yet
        video.original_sha256 = sha256_of(source)
    rungs = plan_ladder(probe)
    timeout = max(120.0, probe.duration * config["VIDEO_TIMEOUT_FACTOR"])
    with get_storage().output_dir(prefix) as out:  # uploaded as a whole before anything points at it
        if probe.has_video:
            ffmpeg.poster(source, out / "poster.jpg", at_seconds=min(probe.duration * 0.1, 10.0))
        ffmpeg.transcode_hls(source, out, rungs, duration=probe.duration, segment_seconds=SEGMENT_SECONDS,
                             timeout=timeout, progress=ctx.report, cancel=ctx.cancel)
        write_master(out, rungs)
        ctx.check()
    return services.publish(video, job_id=ctx.job_id, worker_id=ctx.worker_id, prefix=prefix,
                            duration=probe.duration, width=probe.width, height=probe.height,
                            renditions=[r.name for r in rungs])
