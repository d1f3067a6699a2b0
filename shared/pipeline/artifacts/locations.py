"""Where a job's files lie in the artifacts bucket, which keys a job may name (pure functions), and the
bucket's setting.

Every object of a job lies under its own prefix, `users/<user_id>/jobs/<job_id>/`, which the
assignment gives the worker. A report naming a key outside it is refused, and a download is only ever
signed for a key under the prefix of the caller's own job: one user's URL can never reach another's
files, whatever a worker reported.
"""

from typing import Final
from uuid import UUID

from pydantic import Field

from pipeline.runtime.settings import EnvSettings

DOWNLOAD_SECONDS: Final = 300  # a presigned URL's life: long enough to start the download, no more


class ArtifactsSettings(EnvSettings):
    artifacts_bucket: str = Field(alias="ARTIFACTS_BUCKET", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def job_prefix(user_id: UUID, job_id: UUID) -> str:
    return f"users/{user_id}/jobs/{job_id}/"


def belongs_to_job(key: str, user_id: UUID, job_id: UUID) -> bool:
    """True for a key under the job's prefix and nowhere else (no `..`, no empty segment)."""
    prefix = job_prefix(user_id, job_id)
    if not key.startswith(prefix) or len(key) == len(prefix):
        return False
    return all(part not in ("", ".", "..") for part in key[len(prefix) :].split("/"))


def file_name(key: str, job_id: UUID, base_model: str, label: str) -> str:
    """The name the browser saves it under: job, the model it adapts (it only loads into that model),
    what it is, and the object's own name."""
    return f"{job_id}-{base_model}-{label}-{key.rsplit('/', 1)[-1]}"
