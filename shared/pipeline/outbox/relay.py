"""Publishes the outbox rows their writer did not send (SQS down, a process killed between commit and
send), and the webhook deliveries, which no writer sends itself.

Each batch is claimed with FOR UPDATE SKIP LOCKED in its own transaction, sent with one batch call per
destination in it (outbox.repository.Destination: the jobs queue, the worker tasks queue, the worker
control topic, the webhook deliveries queue), and marked sent or backed off before the transaction
commits. Delivery is at least once: a row whose send succeeded but whose mark was lost is sent again,
and consumers dedupe.
"""

from collections.abc import Callable, Mapping
from typing import Final, NamedTuple, Protocol

from pydantic import Field

from pipeline.db.database import Database
from pipeline.outbox import repository as outbox_repository
from pipeline.outbox.repository import Destination, OutboxMessage
from pipeline.runtime.observability import logger
from pipeline.runtime.settings import EnvSettings

SQS_BATCH_LIMIT: Final = 10
MAX_BACKOFF_S: Final = 300


class RelaySettings(EnvSettings):
    # Rows younger than this are left to the API, which sends right after commit.
    min_age_s: float = Field(default=10, alias="OUTBOX_MIN_AGE_SECONDS", ge=0)
    stop_before_timeout_ms: int = Field(default=10_000, alias="OUTBOX_STOP_BEFORE_TIMEOUT_MS", ge=0)


class BatchPublisher(Protocol):
    def publish_batch(self, messages: list[OutboxMessage]) -> dict[int, str]:
        """Send the messages; return {outbox id: error} for those that failed (empty when all were sent)."""
        ...


class RelayResult(NamedTuple):
    sent: int
    failed: int
    backlog: outbox_repository.Backlog


def relay_unsent(
    database: Database,
    publishers: Mapping[Destination, BatchPublisher],
    *,
    min_age_s: float,
    has_time_left: Callable[[], bool] = lambda: True,
) -> RelayResult:
    sent = failed = 0
    while has_time_left():
        with database.connection() as conn, conn.transaction():
            batch = outbox_repository.claim_due(conn, limit=SQS_BATCH_LIMIT, min_age_s=min_age_s)
            if not batch:
                break
            errors = _publish(publishers, batch)
            delivered = [message.id for message in batch if message.id not in errors]
            if delivered:
                outbox_repository.mark_sent(conn, delivered)
            for error in set(errors.values()):
                ids = [outbox_id for outbox_id, reason in errors.items() if reason == error]
                outbox_repository.mark_failed(conn, ids, error, max_backoff_s=MAX_BACKOFF_S)
        sent += len(delivered)
        failed += len(errors)
        if len(errors) == len(batch):
            break  # nothing got through: stop hammering the queue, the next run retries after backoff
    with database.connection() as conn:
        backlog = outbox_repository.backlog(conn)
    return RelayResult(sent=sent, failed=failed, backlog=backlog)


def _publish(publishers: Mapping[Destination, BatchPublisher], batch: list[OutboxMessage]) -> dict[int, str]:
    """Send each destination's share of the batch; {outbox id: error} for what did not go."""
    errors: dict[int, str] = {}
    for destination in sorted({message.destination for message in batch}):
        messages = [message for message in batch if message.destination is destination]
        try:
            errors |= publishers[destination].publish_batch(messages)
        except Exception as exc:  # noqa: BLE001 - that destination is unreachable: back off its messages
            logger.warning(
                "outbox batch send failed", destination=destination, count=len(messages), exc_info=True
            )
            errors |= {message.id: type(exc).__name__ for message in messages}
    return errors
