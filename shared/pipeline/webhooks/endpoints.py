"""A caller's webhook endpoints: register one (its signing secret shown once), list them, delete one,
rotate its secret, and list its deliveries. Another user's endpoint, or none, is not found.

A URL is checked when it is registered (https, every address its host resolves to public) and again
before every delivery (webhook_delivery): the check here answers early, the one there decides. A host
that does not resolve yet is accepted; its deliveries fail until it does.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final
from uuid import UUID

from pipeline.db import cursor
from pipeline.db.database import Connection, Database
from pipeline.errors import InvalidInput, WebhookLimitReached, WebhookNotFound, WebhookUrlRefused
from pipeline.runtime.observability import logger
from pipeline.webhooks import addresses as webhook_addresses
from pipeline.webhooks import repository as webhooks_repository
from pipeline.webhooks import signatures as webhook_signatures
from pipeline.webhooks.addresses import AddressRefused, HostUnresolved, Resolver
from pipeline.webhooks.models import (
    CreateWebhookRequest,
    WebhookDeliveriesQuery,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEndpointWithSecret,
)

MAX_ENDPOINTS_PER_USER: Final = 10
# After a rotation the previous secret signs beside the new one this long: time to deploy the new one.
PREVIOUS_SECRET_SIGNS_FOR: Final = timedelta(hours=24)


def _endpoint_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise WebhookNotFound() from None


def check_url(url: str, *, allow_local: bool, resolve: Resolver) -> None:
    """WebhookUrlRefused unless `url` may receive webhooks now."""
    try:
        receiver = webhook_addresses.parse(url, allow_local=allow_local)
        webhook_addresses.public_addresses(receiver, allow_local=allow_local, resolve=resolve)
    except AddressRefused as refused:
        raise WebhookUrlRefused(refused.reason) from None
    except HostUnresolved:
        logger.info("webhook host does not resolve yet; accepted, checked again at delivery")


def create(
    database: Database,
    user_id: UUID,
    request: CreateWebhookRequest,
    *,
    allow_local: bool,
    resolve: Resolver,
) -> WebhookEndpointWithSecret:
    check_url(request.url, allow_local=allow_local, resolve=resolve)
    secret = webhook_signatures.new_secret()
    with database.tenant_transaction(user_id) as conn:
        if webhooks_repository.lock_user_endpoints(conn, user_id) >= MAX_ENDPOINTS_PER_USER:
            raise WebhookLimitReached(MAX_ENDPOINTS_PER_USER)
        row = webhooks_repository.insert_endpoint(
            conn,
            user_id=user_id,
            url=request.url,
            description=request.description,
            events=list(request.events),
            secret=secret,
        )
    logger.info("webhook endpoint created", webhook_id=str(row["id"]), events=request.events)
    return WebhookEndpointWithSecret.model_validate(row | {"secret": secret})


def list_endpoints(database: Database, user_id: UUID) -> WebhookEndpointList:
    def queue(conn: Connection) -> Callable[[], list[dict[str, Any]]]:
        return webhooks_repository.list_endpoints(conn, user_id).result

    rows = database.read(user_id, queue)
    return WebhookEndpointList(webhooks=[WebhookEndpoint.model_validate(row) for row in rows])


def delete(database: Database, user_id: UUID, raw_endpoint_id: str) -> None:
    """Delete the endpoint with its deliveries: nothing more is sent to it, not even a retry."""
    endpoint_id = _endpoint_id(raw_endpoint_id)
    with database.tenant_transaction(user_id) as conn:
        if not webhooks_repository.delete_endpoint(conn, endpoint_id, user_id):
            raise WebhookNotFound()
    logger.info("webhook endpoint deleted", webhook_id=str(endpoint_id))


def rotate_secret(
    database: Database, user_id: UUID, raw_endpoint_id: str, now: datetime
) -> WebhookEndpointWithSecret:
    endpoint_id = _endpoint_id(raw_endpoint_id)
    secret = webhook_signatures.new_secret()
    previous_until = now + PREVIOUS_SECRET_SIGNS_FOR
    with database.tenant_transaction(user_id) as conn:
        row = webhooks_repository.rotate_secret(
            conn, endpoint_id, user_id, secret=secret, now=now, previous_until=previous_until
        )
    if row is None:
        raise WebhookNotFound()
    logger.info("webhook secret rotated", webhook_id=str(endpoint_id))
    return WebhookEndpointWithSecret.model_validate(
        row | {"secret": secret, "previous_secret_expires_at": previous_until}
    )


def deliveries(
    database: Database, user_id: UUID, raw_endpoint_id: str, query: WebhookDeliveriesQuery, cursor_secret: str
) -> WebhookDeliveryPage:
    endpoint_id = _endpoint_id(raw_endpoint_id)
    scope = [str(user_id), str(endpoint_id)]
    before_seq = _before(query.cursor, scope, cursor_secret) if query.cursor is not None else None

    def queue(conn: Connection) -> Callable[[], tuple[bool, list[dict[str, Any]]]]:
        exists = webhooks_repository.endpoint_exists(conn, endpoint_id, user_id)
        rows = webhooks_repository.list_deliveries(
            conn, endpoint_id, user_id, before_seq=before_seq, limit=query.limit + 1
        )
        return lambda: (exists.result(), rows.result())

    exists, rows = database.read(user_id, queue, one_snapshot=True)
    if not exists:
        raise WebhookNotFound()
    page = rows[: query.limit]
    return WebhookDeliveryPage(
        deliveries=[_delivery(row) for row in page],
        next_cursor=cursor.encode(
            cursor_secret, list_name="webhook_deliveries", scope=scope, position=[page[-1]["seq"]]
        )
        if len(rows) > query.limit
        else None,
    )


def _before(token: str, scope: list[str], secret: str) -> int:
    try:
        (before,) = cursor.decode(token, secret, list_name="webhook_deliveries", scope=scope)
    except (cursor.InvalidCursor, ValueError):
        raise InvalidInput("cursor", "Invalid cursor") from None
    if not isinstance(before, int):
        raise InvalidInput("cursor", "Invalid cursor")
    return before


def _delivery(row: dict[str, Any]) -> WebhookDelivery:
    return WebhookDelivery.model_validate(row | {"id": webhook_signatures.message_id(row["id"])})
