"""A job's checkpoints and downloads as the API answers them (GET /jobs/{job_id}/checkpoints and
GET /jobs/{job_id}/download)."""

from typing import Final, Literal
from uuid import UUID

from pydantic import Field

from pipeline.models import CURSOR_MAX_LENGTH, Model, RequestModel, UtcDatetime

MAX_CHECKPOINTS_PER_PAGE: Final = 200
# A worker decides how many checkpoints it saves: a job keeps this many (listed and downloadable); a
# later checkpoint report still moves the job on, but its checkpoint is not kept.
MAX_CHECKPOINTS_PER_JOB: Final = 1000


class CheckpointsQuery(RequestModel):
    limit: int = Field(default=100, ge=1, le=MAX_CHECKPOINTS_PER_PAGE)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, description="next_cursor of an earlier page"
    )


class Checkpoint(Model):
    step: int = Field(description="The step the checkpoint was saved at")
    epoch: int
    metrics: dict[str, float] = Field(description="The losses at that step, as its worker measured them")
    saved_at: UtcDatetime


class JobCheckpoints(Model):
    job_id: UUID
    checkpoints: list[Checkpoint] = Field(description="Step order")
    adapter_available: bool = Field(description="True once the job completed with its final adapter")
    next_cursor: str | None = Field(
        description="?cursor= it for the checkpoints after; null on the last page"
    )


class DownloadQuery(RequestModel):
    artifact: Literal["adapter", "checkpoint"] | None = Field(
        default=None,
        description="The final adapter, or one checkpoint; absent: checkpoint with a step, else adapter",
    )
    step: int | None = Field(
        default=None, ge=0, le=100_000_000, description="The checkpoint's step; only with checkpoint"
    )


class ArtifactDownload(Model):
    """A presigned GET of one object of the caller's job: valid until expires_at, then refused by S3."""

    url: str = Field(description="GET it (no Authorization header) before expires_at")
    expires_at: UtcDatetime
    artifact: Literal["adapter", "checkpoint"]
    step: int | None
    file_name: str = Field(description="What the download is saved as (Content-Disposition)")
