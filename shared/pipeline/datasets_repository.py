"""SQL for lora_datasets. This API only reads datasets; the dataset section writes them."""

from dataclasses import dataclass
from typing import Final
from uuid import UUID

from pipeline.database import Connection


@dataclass(frozen=True, slots=True)
class Dataset:
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
# Inside the create transaction: hold the row so its status cannot change before the job commits.
_FIND_FOR_USER_FOR_SHARE: Final = _FIND_FOR_USER + "for share"


def find_for_user(
    conn: Connection, dataset_id: UUID, user_id: UUID, *, for_share: bool = False
) -> Dataset | None:
    query = _FIND_FOR_USER_FOR_SHARE if for_share else _FIND_FOR_USER
    row = conn.execute(query, (dataset_id, user_id)).fetchone()
    return Dataset(**row) if row else None
