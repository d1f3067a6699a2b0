"""Recording what happened to a job, in the transaction that changed it: the feed's event and, for a
change of status, the webhook deliveries it sends. Every writer of job events goes through here."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pipeline.db.database import Connection
from pipeline.history import repository as job_events_repository
from pipeline.jobs.states import JobStatus
from pipeline.webhooks import enqueue as webhook_events


def record(
    conn: Connection,
    *,
    job_id: UUID,
    user_id: UUID,
    type: str,
    data: dict[str, Any],
    at: datetime | None = None,
) -> None:
    job_events_repository.insert_event(conn, job_id=job_id, user_id=user_id, type=type, data=data)
    if type == "status_changed":
        webhook_events.enqueue_status_change(
            conn,
            job_id=job_id,
            user_id=user_id,
            previous=JobStatus(data["from"]),
            status=JobStatus(data["to"]),
            at=at or datetime.now(UTC),
        )
