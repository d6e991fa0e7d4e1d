"""The transcode job: probe → plan → poster → one ffmpeg for every rung → master → publish.

Output goes to a folder of its own per attempt; the lesson's pointer switches in one commit; only
then are older attempts' folders removed. A finished video is left alone if its job runs again.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from lms.extensions import db
from lms.jobs.attempts import publish_attempt
from lms.jobs.worker import JobContext, PermanentError, handler
from lms.media import ffmpeg
from lms.messages import Message
from lms.storage import get_storage
from lms.storage.base import file_sha256 as sha256_of
from lms.video import services
from lms.video.hls import write_master
from lms.video.ladder import SEGMENT_SECONDS, plan_ladder
from lms.video.models import Video, VideoState


@dataclass(frozen=True)
class Transcoded:
    """What a finished ladder tells the publishing step."""

    probe: ffmpeg.Probe
    rungs: list
    sha256: str | None  # of the original, when nobody had read it whole before


@handler(services.TRANSCODE)
def transcode(ctx: JobContext) -> None:
    video = db.session.get(Video, ctx.payload["video_id"])
    if video is None or video.state == VideoState.READY:
        return
    video_id, original_key, hashed = video.id, video.original_key, video.original_sha256 is not None
    storage = get_storage()
    prefix = f"videos/{video_id}/renditions/attempt-{ctx.attempt}-{secrets.token_hex(4)}"

    def work() -> Transcoded:
        with storage.local_file(original_key) as source:  # on S3: downloaded to a scratch folder
            return _transcode(ctx, source, prefix, hashed)

    def publish(done: Transcoded) -> bool:
        video = db.session.get(Video, video_id)
        if done.sha256:
            video.original_sha256 = done.sha256
        return services.publish(video, job_id=ctx.job_id, worker_id=ctx.worker_id, prefix=prefix,
                                duration=done.probe.duration, width=done.probe.width, height=done.probe.height,
                                renditions=[r.name for r in done.rungs])

    try:
        publish_attempt(ctx, work, publish, prefix=prefix, parent=f"videos/{video_id}/renditions")
    except ffmpeg.MediaRejected as exc:
        services.reject(db.session.get(Video, video_id), Message(exc.message, exc.params))
        db.session.commit()
        raise PermanentError(f"{exc} {exc.detail}".strip()) from None


def _transcode(ctx: JobContext, source: Path, prefix: str, hashed: bool) -> Transcoded:
    """Probe, poster, the ladder and its master playlist, uploaded under `prefix`; no database.
    Raises ffmpeg.MediaRejected for a file that is not a usable video."""
    config = current_app.config
    probe = ffmpeg.probe(source, max_duration=config["VIDEO_MAX_SECONDS"])
    sha256 = None if hashed else sha256_of(source)  # sent straight to S3 in parts: nobody has read it whole yet
    rungs = plan_ladder(probe)
    timeout = max(120.0, probe.duration * config["VIDEO_TIMEOUT_FACTOR"])
    with get_storage().output_dir(prefix) as out:  # uploaded as a whole before anything points at it
        if probe.has_video:
            ffmpeg.poster(source, out / "poster.jpg", at_seconds=min(probe.duration * 0.1, 10.0))
        ffmpeg.transcode_hls(source, out, rungs, duration=probe.duration, segment_seconds=SEGMENT_SECONDS,
                             timeout=timeout, progress=ctx.report, cancel=ctx.cancel)
        write_master(out, rungs)
        ctx.check()
    return Transcoded(probe, rungs, sha256)
