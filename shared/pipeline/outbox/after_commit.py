"""Sending an outbox row right after the transaction that wrote it committed.

Every writer of the outbox (create, the dispatcher, cancel) sends its message itself at once, then
marks its row sent; a send or a mark that fails leaves the row to the outbox relay, which re-sends
it (consumers dedupe). Neither failure is the caller's: what it committed stands.
"""

from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from pipeline.runtime.observability import logger


class Publisher(Protocol):
    def publish(self, *, body: str, message_type: str, version: int, job_id: UUID | None = None) -> None: ...


def send_committed(
    publisher: Publisher,
    *,
    job_id: UUID,
    message_type: str,
    version: int,
    body: str,
    mark_sent: Callable[[], None],
) -> bool:
    """Send, then mark sent; False when the send failed (the row waits for the relay). Never raises."""
    try:
        publisher.publish(body=body, message_type=message_type, version=version, job_id=job_id)
    except Exception:  # noqa: BLE001 - any send failure leaves the row pending for the relay
        logger.warning(
            "send failed; message left in the outbox",
            job_id=str(job_id),
            message_type=message_type,
            exc_info=True,
        )
        return False
    try:
        mark_sent()
    except Exception:  # noqa: BLE001 - the message went; the relay may send it again (consumers dedupe)
        logger.warning(
            "could not mark outbox row sent", job_id=str(job_id), message_type=message_type, exc_info=True
        )
    return True
