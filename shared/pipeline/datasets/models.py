"""A dataset as the configuration page shows it before any job exists (GET /datasets/{dataset_id})."""

from uuid import UUID

from pydantic import Field

from pipeline.models import Model


class DatasetSummary(Model):
    """What the user is about to train on. The dataset section owns the rows; this API only reads them."""

    id: UUID
    name: str
    format: str | None
    status: str = Field(description="The dataset section's processing status: ready once it can be used")
    training_ready: bool = Field(description="True once the dataset section has checked the pairs")
    total_training_pairs: int | None
    total_tokens: int | None
    ready_for_training: bool = Field(
        description="status is ready and training_ready is true: a job can be created (else 400)"
    )
