"""SQL for job_queue_outbox: queue messages kept until they are known to be sent."""

from typing import Final
from uuid import UUID

from pipeline.database import Connection

_INSERT: Final = """
insert into job_queue_outbox (job_id, message_type, message_version, body)
values (%s, %s, %s, %s)
returning id
"""
_MARK_SENT: Final = "update job_queue_outbox set sent_at = now(), attempts = attempts + 1 where id = %s"


def insert(conn: Connection, *, job_id: UUID, message_type: str, message_version: int, body: str) -> int:
    row = conn.execute(_INSERT, (job_id, message_type, message_version, body)).fetchone()
    assert row is not None  # insert ... returning always yields the row
    return int(row["id"])


def mark_sent(conn: Connection, outbox_id: int) -> None:
    conn.execute(_MARK_SENT, (outbox_id,))
