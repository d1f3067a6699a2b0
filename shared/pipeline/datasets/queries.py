"""Reading one of the caller's datasets. Someone else's, or one that does not exist, is not found."""

from uuid import UUID

from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.models import DatasetSummary
from pipeline.db.database import Database
from pipeline.errors import DatasetNotFound


def get_dataset(database: Database, user_id: UUID, raw_dataset_id: str) -> DatasetSummary:
    try:
        dataset_id = UUID(raw_dataset_id)
    except ValueError:
        # A malformed id names no dataset: the same answer as one that is missing or not the caller's.
        raise DatasetNotFound() from None
    found = database.read(
        user_id, lambda conn: datasets_repository.find_for_user(conn, dataset_id, user_id).result
    )
    if found is None:
        raise DatasetNotFound()
    return DatasetSummary(
        id=found.id,
        name=found.name,
        format=found.format,
        status=found.status,
        training_ready=found.training_ready,
        total_training_pairs=found.total_training_pairs,
        total_tokens=found.total_tokens,
        ready_for_training=found.ready_for_training,
    )
