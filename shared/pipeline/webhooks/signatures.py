"""Standard Webhooks signing (https://www.standardwebhooks.com): the secrets we issue and the three
headers every delivery carries. Pure: no I/O.

- `webhook-id`: the delivery's id, the same on every retry, so a receiver can drop a repeat;
- `webhook-timestamp`: seconds since the epoch at this attempt, so a receiver can refuse an old replay;
- `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where key is the
  secret's bytes (base64 after `whsec_`); several space-separated while a rotated-out secret still signs.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Final
from uuid import UUID

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format's prefix, not a secret
_SECRET_BYTES: Final = 32  # the specification asks for 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def message_id(delivery_id: UUID) -> str:
    return f"msg_{delivery_id.hex}"


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def headers(secrets_in_use: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers, signed with each secret in use (the current one first)."""
    signatures = " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets_in_use)
    if not signatures:
        raise ValueError("at least one secret signs a delivery")
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signatures}
