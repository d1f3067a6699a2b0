"""A caller's job's checkpoints and downloads: the list (GET /jobs/{job_id}/checkpoints) and a
short-lived presigned URL for the final adapter or one checkpoint (GET /jobs/{job_id}/download).
Someone else's job, or no such job, is not found; a file the job does not have is not found either."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from pipeline.artifacts import locations as artifacts
from pipeline.artifacts import repository as checkpoints_repository
from pipeline.artifacts.models import (
    ArtifactDownload,
    Checkpoint,
    CheckpointsQuery,
    DownloadQuery,
    JobCheckpoints,
)
from pipeline.db import cursor
from pipeline.db.database import Connection, Database
from pipeline.errors import ArtifactNotAvailable, InvalidInput, JobNotFound
from pipeline.jobs import repository as jobs_repository
from pipeline.runtime.observability import logger


class Presigner(Protocol):
    def download_url(self, key: str, *, file_name: str, expires_in: int) -> str: ...


def _job_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise JobNotFound() from None


def checkpoints_for_job(
    database: Database, user_id: UUID, raw_job_id: str, query: CheckpointsQuery, cursor_secret: str
) -> JobCheckpoints:
    """A page of the job's checkpoints in step order (at most MAX_CHECKPOINTS_PER_PAGE: an answer stays
    far below Lambda's 6 MB whatever a worker saved)."""
    job_id = _job_id(raw_job_id)
    scope = [str(user_id), str(job_id)]
    after = _after_step(query.cursor, scope, cursor_secret) if query.cursor is not None else -1

    def queue(conn: Connection) -> Callable[[], tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
        job = jobs_repository.artifact_for_user(conn, job_id, user_id)
        rows = checkpoints_repository.list_for_job(
            conn, job_id, user_id, after_step=after, limit=query.limit + 1
        )
        return lambda: (job.result(), rows.result())

    job, rows = database.read(user_id, queue, one_snapshot=True)
    if job is None:
        raise JobNotFound()
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return JobCheckpoints(
        job_id=job_id,
        checkpoints=[Checkpoint.model_validate(row) for row in page],
        adapter_available=job["artifact_key"] is not None,
        next_cursor=cursor.encode(
            cursor_secret, list_name="job_checkpoints", scope=scope, position=[page[-1]["step"]]
        )
        if more
        else None,
    )


def _after_step(token: str, scope: list[str], secret: str) -> int:
    try:
        (step,) = cursor.decode(token, secret, list_name="job_checkpoints", scope=scope)
    except (cursor.InvalidCursor, ValueError):
        raise InvalidInput("cursor", "Invalid cursor") from None
    if not isinstance(step, int):
        raise InvalidInput("cursor", "Invalid cursor")
    return step


def download(
    database: Database,
    presigner: Presigner,
    user_id: UUID,
    raw_job_id: str,
    query: DownloadQuery,
    now: datetime,
) -> ArtifactDownload:
    job_id = _job_id(raw_job_id)
    artifact = query.artifact or ("checkpoint" if query.step is not None else "adapter")
    if artifact == "checkpoint" and query.step is None:
        raise InvalidInput("step", "Send the checkpoint's step with artifact=checkpoint")
    if artifact == "adapter" and query.step is not None:
        raise InvalidInput("step", "A step names a checkpoint, not the adapter: send artifact=checkpoint")

    def queue(conn: Connection) -> Callable[[], tuple[dict[str, Any] | None, str | None]]:
        job = jobs_repository.artifact_for_user(conn, job_id, user_id)
        checkpoint = (
            checkpoints_repository.key_for_step(conn, job_id, user_id, query.step)
            if query.step is not None
            else None
        )
        return lambda: (job.result(), checkpoint.result() if checkpoint is not None else None)

    job, checkpoint_key = database.read(user_id, queue, one_snapshot=True)
    if job is None:
        raise JobNotFound()
    if artifact == "adapter":
        key, label = job["artifact_key"], "adapter"
        if key is None:
            raise ArtifactNotAvailable("The adapter can be downloaded once the job has completed")
    else:
        key, label = checkpoint_key, f"step-{query.step}"
        if key is None:
            raise ArtifactNotAvailable(f"The job has no checkpoint at step {query.step}")
    # Written only after the same check (job_reports); checked again here, where a URL is signed.
    if not artifacts.belongs_to_job(key, user_id, job_id):
        logger.error("artifact key outside its job's prefix: not signed", job_id=str(job_id))
        raise ArtifactNotAvailable("This file is not available")
    name = artifacts.file_name(key, job_id, job["base_model"], label)
    url = presigner.download_url(key, file_name=name, expires_in=artifacts.DOWNLOAD_SECONDS)
    return ArtifactDownload(
        url=url,
        expires_at=now + timedelta(seconds=artifacts.DOWNLOAD_SECONDS),
        artifact=artifact,
        step=query.step,
        file_name=name,
    )
