"""SQL for lora_notifications."""

from typing import Any, Final
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db.database import Connection

_INSERT: Final = """
insert into lora_notifications (user_id, type, title, message, priority, action_url, metadata)
values (%s, %s, %s, %s, %s, %s, %s)
"""


def insert(
    conn: Connection,
    *,
    user_id: UUID,
    type: str,
    title: str,
    message: str,
    priority: str,
    action_url: str | None,
    metadata: dict[str, Any],
) -> None:
    conn.execute(_INSERT, (user_id, type, title, message, priority, action_url, Jsonb(metadata)))
