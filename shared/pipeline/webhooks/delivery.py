"""Attempting one webhook delivery (the webhook deliveries queue's function): check where it goes,
sign it, post it, record the attempt, and say what comes next.

- 2xx: delivered. Anything else, no answer, or an address refused at this moment: the attempt is
  recorded with what happened, and the next one is due after the retry schedule's delay (by default
  5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 28 hours). The message stays on
  the queue, hidden for that delay (its visibility timeout), so SQS brings it back then: same delivery,
  same webhook-id, same body, a fresh timestamp and signature.
- After the last attempt failed, the delivery is failed and its message goes to the dead-letter queue.
- A delivery whose endpoint was deleted, or that is no longer pending (a repeated message), is dropped.

The database is never held across the POST: one short transaction reads the delivery, another records
the attempt. Two copies of a message racing each other may both post (SQS delivers at least once); the
receiver drops the second by its webhook-id, and only one attempt counts.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from pydantic import Field, ValidationError, field_validator

from pipeline.db.database import Database
from pipeline.runtime.observability import logger
from pipeline.runtime.queue_consumer import LeaveForRetry
from pipeline.webhooks import addresses as webhook_addresses
from pipeline.webhooks import repository as webhooks_repository
from pipeline.webhooks import signatures as webhook_signatures
from pipeline.webhooks import transport as webhook_http
from pipeline.webhooks.addresses import AddressRefused, HostUnresolved, ReceiverSettings, Resolver
from pipeline.webhooks.delivery_messages import WebhookDeliveryDueMessage

# SQS hides a message at most 12 hours at a time.
MAX_DELAY_S: Final = 43_200
_ERROR_CHARS: Final = 500


class DeliverySettings(
    ReceiverSettings
):  # The delay before each retry, in seconds: as many retries as entries.
    retry_schedule_s: tuple[int, ...] = Field(
        default=(5, 300, 1800, 7200, 18000, 36000, 36000), alias="WEBHOOK_RETRY_SCHEDULE_SECONDS"
    )
    timeout_s: float = Field(default=10, alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=10)

    @field_validator("retry_schedule_s", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(","))
        return value

    @field_validator("retry_schedule_s")
    @classmethod
    def _within_sqs(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(delay < 0 or delay > MAX_DELAY_S for delay in value):
            raise ValueError(f"one or more delays, each 0 to {MAX_DELAY_S} seconds, comma-separated")
        return value


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # attempted, failed; the next attempt is scheduled
    GAVE_UP = "gave_up"  # the last attempt failed
    GONE = "gone"  # the endpoint was deleted, or the delivery is no longer pending
    UNPROCESSABLE = "unprocessable"


@dataclass(frozen=True)
class Attempted:
    outcome: Outcome
    retry_in_s: int | None = None


class Poster(Protocol):
    def __call__(
        self,
        receiver: webhook_addresses.Receiver,
        address: webhook_addresses.IpAddress,
        *,
        headers: dict[str, str],
        body: bytes,
        timeout_s: float,
    ) -> webhook_http.Answer: ...


class DeliveryQueue(Protocol):
    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        """Hide the message for `delay_s`: SQS delivers it again then."""
        ...

    def dead_letter(self, body: str) -> None: ...


def attempt(
    database: Database,
    body: str,
    *,
    settings: DeliverySettings,
    resolve: Resolver,
    post: Poster = webhook_http.post,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Attempted:
    try:
        message = WebhookDeliveryDueMessage.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)[:5]
        logger.warning("invalid webhook delivery message acknowledged", errors=errors)
        return Attempted(Outcome.UNPROCESSABLE)
    delivery_id = message.delivery_id
    with database.tenant_transaction(message.user_id) as conn:
        delivery = webhooks_repository.delivery_for_attempt(conn, delivery_id)
    if delivery is None or delivery["status"] != "pending":
        logger.info("webhook delivery dropped: endpoint gone or delivery done", delivery_id=str(delivery_id))
        return Attempted(Outcome.GONE)

    at = clock()
    started = time.monotonic()
    status: int | None = None
    answer_prefix: str | None = None
    error: str | None = None
    try:
        receiver = webhook_addresses.parse(delivery["url"], allow_local=settings.allow_local_receivers)
        addresses = webhook_addresses.public_addresses(
            receiver, allow_local=settings.allow_local_receivers, resolve=resolve
        )
        # IPv4 first: a Lambda function reaches IPv6 addresses only from a dual-stack VPC.
        address = next((found for found in addresses if found.version == 4), addresses[0])
        payload = delivery["payload"].encode()
        headers = webhook_signatures.headers(
            _signing_secrets(delivery, at),
            webhook_signatures.message_id(delivery_id),
            math.floor(at.timestamp()),
            payload,
        )
        answer = post(receiver, address, headers=headers, body=payload, timeout_s=settings.timeout_s)
        status, answer_prefix = answer.status, answer.body_prefix
    except AddressRefused as refused:
        error = f"Not sent: {refused.reason}"
    except HostUnresolved as unresolved:
        error = f"Not sent: {unresolved} did not resolve"
    except webhook_http.PostFailed as failed:
        error = str(failed)
    delivered = status is not None and 200 <= status < 300
    with database.tenant_transaction(message.user_id) as conn:
        recorded = webhooks_repository.record_attempt(
            conn,
            delivery_id,
            at=at,
            delivered=delivered,
            response_status=status,
            response_body=answer_prefix,
            error=error[:_ERROR_CHARS] if error else None,
            duration_ms=round((time.monotonic() - started) * 1000),
            retry_schedule_s=list(settings.retry_schedule_s),
        )
    if recorded is None:
        return Attempted(Outcome.GONE)
    fields = {"delivery_id": str(delivery_id), "attempt": recorded["attempts"], "response_status": status}
    if delivered:
        logger.info("webhook delivered", **fields)
        return Attempted(Outcome.DELIVERED)
    if recorded["status"] == "failed":
        logger.warning("webhook delivery failed for good", error=error, **fields)
        return Attempted(Outcome.GAVE_UP)
    retry_in = max(math.ceil((recorded["next_attempt_at"] - at).total_seconds()), 0)
    logger.info("webhook attempt failed; retrying", error=error, retry_in_s=retry_in, **fields)
    return Attempted(Outcome.RETRY, retry_in_s=retry_in)


def handle_record(
    database: Database,
    body: str,
    receipt_handle: str,
    *,
    queue: DeliveryQueue,
    settings: DeliverySettings,
    resolve: Resolver,
    post: Poster = webhook_http.post,
) -> Outcome:
    """One queue record: attempted, then left on the queue for its retry (LeaveForRetry), moved to the
    dead-letter queue after the last attempt, or acknowledged."""
    result = attempt(database, body, settings=settings, resolve=resolve, post=post)
    if result.outcome is Outcome.RETRY:
        assert result.retry_in_s is not None
        queue.retry_later(receipt_handle, min(result.retry_in_s, MAX_DELAY_S))
        raise LeaveForRetry(Outcome.RETRY)
    if result.outcome is Outcome.GAVE_UP:
        queue.dead_letter(body)
    return result.outcome


def _signing_secrets(delivery: dict[str, Any], at: datetime) -> list[str]:
    """The current secret, and the one it replaced while that one still signs."""
    expires = delivery["previous_secret_expires_at"]
    if delivery["previous_secret"] is not None and expires is not None and expires > at:
        return [delivery["secret"], delivery["previous_secret"]]
    return [delivery["secret"]]
