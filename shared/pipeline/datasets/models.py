"""A dataset as the API shows it (GET /datasets, GET /datasets/{dataset_id}, POST /datasets)."""

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from pipeline.models import Model, RequestModel, StorableText, UtcDatetime


class CreateDatasetRequest(RequestModel):
    name: StorableText = Field(min_length=1, max_length=200, description="What the user calls it")


class DatasetError(Model):
    line: int = Field(description="The file's line (from 1); 0 for the file as a whole")
    code: str = Field(description="The rule it breaks, for programs: invalid_json, empty_content, ...")
    message: str


class TokenCounts(Model):
    """Tokens by one base model's own tokenizer, over the training examples (the hold-out excluded)."""

    total: int
    minimum: int
    median: int
    p95: int
    maximum: int
    over_context: int = Field(
        description="Examples (the held-out ones too) longer than the model's context: it cannot take them"
    )


class DatasetSummary(Model):
    """A dataset: its status, and what validation found in its file."""

    id: UUID
    name: str
    format: str | None
    status: str = Field(description="uploading -> processing -> ready | failed")
    training_ready: bool = Field(description="True once validation found the file fit to train on")
    total_training_pairs: int | None = Field(description="Examples trained on (the hold-out excluded)")
    total_tokens: int | None = Field(description="Their tokens by the default base model's tokenizer")
    ready_for_training: bool = Field(
        description="status is ready and training_ready is true: a job can be created (else 400)"
    )
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, description="Of the file validated: what the workers read")
    examples: int | None = Field(default=None, description="Valid examples, the hold-out included")
    held_out: int | None = Field(
        default=None, description="Examples held out for the validation loss (the worker contract's rule)"
    )
    token_counts: dict[str, TokenCounts] | None = Field(default=None, description="By base model id")
    errors: list[DatasetError] | None = Field(
        default=None, description="A failed file's first 50 problems, by line"
    )
    error_count: int = Field(default=0, description="Every problem found, listed or not")
    upload_expires_at: UtcDatetime | None = Field(
        default=None, description="While uploading: when the upload form stops working"
    )
    validated_at: UtcDatetime | None = None
    created_at: UtcDatetime | None = None


class DatasetUpload(Model):
    """A presigned S3 POST: send the file as the form's `file` field, after every field here."""

    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]
    expires_at: UtcDatetime
    max_bytes: int = Field(description="The largest file the form accepts (S3 refuses a larger one)")


class CreatedDataset(Model):
    dataset: DatasetSummary
    upload: DatasetUpload


class DatasetList(Model):
    datasets: list[DatasetSummary]
    next_cursor: str | None = Field(description="Where the next (older) page starts; null on the last")


def summary_from_row(row: dict[str, Any]) -> DatasetSummary:
    return DatasetSummary(
        id=row["id"],
        name=row["name"],
        format=row["format"],
        status=row["status"],
        training_ready=row["training_ready"],
        total_training_pairs=row["total_training_pairs"],
        total_tokens=row["total_tokens"],
        ready_for_training=row["status"] == "ready" and row["training_ready"],
        size_bytes=row.get("size_bytes"),
        sha256=row.get("sha256"),
        examples=row.get("examples"),
        held_out=row.get("held_out"),
        token_counts=row.get("token_counts"),
        errors=row.get("validation_errors") or None,
        error_count=row.get("error_count") or 0,
        upload_expires_at=row.get("upload_expires_at") if row["status"] == "uploading" else None,
        validated_at=row.get("validated_at"),
        created_at=row.get("created_at"),
    )
