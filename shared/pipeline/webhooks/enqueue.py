"""A job's change of status, turned into webhook deliveries in the transaction that records it.

Every change sends `job.status_changed`; a change to completed, failed or cancelled also sends
`job.completed`, `job.failed` or `job.cancelled`: each endpoint gets those of its events, one delivery
each. A delivery's body is fixed here (every attempt sends the same bytes), and an outbox row names it,
so it reaches the webhook deliveries queue exactly when the change commits, and never otherwise.
"""

from datetime import datetime
from typing import Final
from uuid import UUID, uuid4

from pipeline.db.database import Connection
from pipeline.jobs.states import JobStatus
from pipeline.outbox import repository as outbox_repository
from pipeline.outbox.repository import Destination
from pipeline.webhooks import repository as webhooks_repository
from pipeline.webhooks.delivery_messages import (
    DELIVERY_DUE_TYPE,
    DELIVERY_DUE_VERSION,
    WebhookDeliveryDueMessage,
)
from pipeline.webhooks.models import WebhookEventType, WebhookJobData, WebhookPayload

_FINAL_EVENTS: Final[dict[JobStatus, WebhookEventType]] = {
    JobStatus.COMPLETED: "job.completed",
    JobStatus.FAILED: "job.failed",
    JobStatus.CANCELLED: "job.cancelled",
}


def event_types_for(status: JobStatus) -> list[WebhookEventType]:
    final = _FINAL_EVENTS.get(status)
    return ["job.status_changed"] if final is None else ["job.status_changed", final]


def enqueue_status_change(
    conn: Connection, *, job_id: UUID, user_id: UUID, previous: JobStatus, status: JobStatus, at: datetime
) -> int:
    """Write a delivery (and its outbox row) for each of the user's endpoints subscribed to what this
    change sends; how many. Call after the change is written, in its transaction."""
    types = event_types_for(status)
    endpoints = webhooks_repository.subscribers(conn, user_id, list(types))
    if not endpoints:
        return 0
    job = webhooks_repository.job_for_payload(conn, job_id)
    assert job is not None  # the transaction that changed the job sees it
    data = WebhookJobData.model_validate(job | {"job_id": job["id"], "previous_status": previous})
    bodies = {
        event_type: WebhookPayload(type=event_type, timestamp=at, data=data).model_dump_json()
        for event_type in types
    }
    written = 0
    for endpoint in endpoints:
        for event_type in types:
            if event_type not in endpoint["events"]:
                continue
            delivery_id = uuid4()
            webhooks_repository.insert_delivery(
                conn,
                delivery_id=delivery_id,
                endpoint_id=endpoint["id"],
                user_id=user_id,
                job_id=job_id,
                event_type=event_type,
                payload=bodies[event_type],
            )
            outbox_repository.insert(
                conn,
                job_id=job_id,
                message_type=DELIVERY_DUE_TYPE,
                message_version=DELIVERY_DUE_VERSION,
                body=WebhookDeliveryDueMessage(delivery_id=delivery_id, user_id=user_id).model_dump_json(),
                destination=Destination.WEBHOOKS,
            )
            written += 1
    return written
