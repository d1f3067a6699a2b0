"""Where a dataset's file lies in the datasets bucket (pure functions), and the bucket's setting.

One object per dataset, `users/<user_id>/datasets/<dataset_id>/source.jsonl`: the upload form signs
exactly that key, the validator reads only keys of this shape (and only for the dataset and user they
name), and the workers' read-only policy covers `users/*/datasets/*`.
"""

import re
from typing import Final
from uuid import UUID

from pydantic import Field

from pipeline.runtime.settings import EnvSettings

UPLOAD_SECONDS: Final = 3600  # an upload form's life: time to pick a file and send a large one
SOURCE_FILE: Final = "source.jsonl"

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SOURCE_KEY: Final = re.compile(rf"^users/({_UUID})/datasets/({_UUID})/{re.escape(SOURCE_FILE)}$")


class DatasetsSettings(EnvSettings):
    datasets_bucket: str = Field(alias="DATASETS_BUCKET", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def source_key(user_id: UUID, dataset_id: UUID) -> str:
    return f"users/{user_id}/datasets/{dataset_id}/{SOURCE_FILE}"


def parse_source_key(key: str) -> tuple[UUID, UUID] | None:
    """(user_id, dataset_id) of a dataset's source key; None for any other key."""
    match = _SOURCE_KEY.match(key)
    if match is None:
        return None
    return UUID(match[1]), UUID(match[2])
