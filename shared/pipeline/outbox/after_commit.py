"""A message that follows its commit: written to the outbox in the writer's transaction, sent by the
writer right after that transaction committed, and marked sent.

Every writer that has a message for a queue or topic (create, the dispatcher, cancel, the watchdog)
uses these two: `write` in its transaction, `send` after it. A send or a mark that fails leaves the
row to the outbox relay, which sends it again (consumers dedupe). Neither failure is the writer's:
what it committed stands.
"""

from typing import NamedTuple, Protocol
from uuid import UUID

from pipeline.db.database import Connection, Database
from pipeline.outbox import repository as outbox_repository
from pipeline.outbox.repository import Destination
from pipeline.runtime.observability import logger


class Publisher(Protocol):
    def publish(self, *, body: str, message_type: str, version: int, job_id: UUID | None = None) -> None: ...


class Written(NamedTuple):
    """An outbox row written in a transaction: what `send` sends once that transaction committed."""

    user_id: UUID
    job_id: UUID
    destination: Destination
    message_type: str
    version: int
    body: str


def write(
    conn: Connection,
    *,
    user_id: UUID,
    job_id: UUID,
    destination: Destination,
    message_type: str,
    version: int,
    body: str,
) -> Written:
    """The message's outbox row, in the transaction on `conn`."""
    outbox_repository.insert(
        conn,
        job_id=job_id,
        message_type=message_type,
        message_version=version,
        body=body,
        destination=destination,
    )
    return Written(user_id, job_id, destination, message_type, version, body)


def send(database: Database, publisher: Publisher, message: Written) -> bool:
    """After the commit: send, then mark the row sent; False when the send failed (the row waits for the
    relay). Never raises."""
    try:
        publisher.publish(
            body=message.body,
            message_type=message.message_type,
            version=message.version,
            job_id=message.job_id,
        )
    except Exception:  # noqa: BLE001 - any send failure leaves the row pending for the relay
        logger.warning(
            "send failed; message left in the outbox",
            job_id=str(message.job_id),
            message_type=message.message_type,
            exc_info=True,
        )
        return False
    try:
        # As the job's tenant: the API's role sees only its own jobs' outbox rows (the workers' role
        # sees every row, tenant or not).
        with database.tenant_transaction(message.user_id) as conn:
            outbox_repository.mark_sent_for_job(conn, message.job_id, message.destination)
    except Exception:  # noqa: BLE001 - the message went; the relay may send it again (consumers dedupe)
        logger.warning(
            "could not mark outbox row sent",
            job_id=str(message.job_id),
            message_type=message.message_type,
            exc_info=True,
        )
    return True
