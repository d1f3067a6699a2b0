"""SQL for lora_datasets. This API only reads datasets; the dataset section writes them."""

from typing import Final, NamedTuple
from uuid import UUID

from pipeline.db.database import Connection, Deferred


class Dataset(NamedTuple):
    id: UUID
    user_id: UUID
    name: str
    format: str | None
    status: str
    training_ready: bool
    total_training_pairs: int | None
    total_tokens: int | None

    @property
    def ready_for_training(self) -> bool:
        return self.status == "ready" and self.training_ready


_FIND_FOR_USER: Final = """
select id, user_id, name, format, status, training_ready, total_training_pairs, total_tokens
from lora_datasets
where id = %s and user_id = %s
"""


def find_for_user(conn: Connection, dataset_id: UUID, user_id: UUID) -> Deferred[Dataset | None]:
    # No row lock: SELECT ... FOR SHARE needs UPDATE privilege, which the functions' role does not
    # have on datasets. The jobs' foreign key keeps the dataset from being deleted under a new job.
    cursor = conn.execute(_FIND_FOR_USER, (dataset_id, user_id))
    return Deferred(cursor, lambda row: Dataset(**row) if row else None)
