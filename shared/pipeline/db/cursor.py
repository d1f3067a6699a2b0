"""Every list's cursor: where its next page starts, opaque and signed.

A cursor carries the list it continues (its name), that list's scope (the caller, and the job or
endpoint listed) and the position of the last row of its page, signed with HMAC-SHA256 over all three.
One that was altered, or issued for another list, user, job or endpoint, is refused (400 "Invalid
cursor"): a cursor never selects anything but the rows after its own position, in its own list. Each
list decides what its position holds (a sequence number; a creation time, an id, the page's size).
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from pipeline.aws.secrets import SecretUnavailable, SecretValue
from pipeline.runtime.settings import EnvSettings

_VERSION = 3  # 3: one scheme for every list (2: the jobs list's own, with its page size)

Position = Sequence[str | int | None]


class PaginationSettings(EnvSettings):
    # Signs the lists' cursors; any secret string, the same for every function that lists. Locally the
    # value itself; in AWS a Secrets Manager secret, read on first use.
    cursor_secret: str | None = Field(default=None, alias="PAGINATION_CURSOR_SECRET", min_length=32)
    cursor_secret_arn: str | None = Field(
        default=None, alias="PAGINATION_CURSOR_SECRET_ARN", pattern=r"^arn:aws[a-z-]*:secretsmanager:"
    )
    secret_reader: Literal["extension", "sdk"] = Field(default="extension", alias="DATABASE_SECRET_READER")

    @model_validator(mode="after")
    def _has_a_secret(self) -> Self:
        if self.cursor_secret is None and self.cursor_secret_arn is None:
            raise ValueError(
                "environment variable PAGINATION_CURSOR_SECRET (or PAGINATION_CURSOR_SECRET_ARN) is not set"
            )
        return self


class CursorSecret:
    """The cursors' signing secret: from the environment, or read from Secrets Manager on first use."""

    def __init__(self, settings: PaginationSettings) -> None:
        self._given = settings.cursor_secret
        self._stored = (
            SecretValue(settings.cursor_secret_arn, reader=settings.secret_reader)
            if self._given is None and settings.cursor_secret_arn is not None
            else None
        )

    def value(self) -> str:
        if self._given is not None:
            return self._given
        assert self._stored is not None  # the settings demand one or the other
        secret = self._stored.value()
        if len(secret) < 32:
            raise SecretUnavailable("the pagination cursor secret is shorter than 32 characters")
        return secret


class InvalidCursor(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()


def encode(secret: str, *, list_name: str, scope: Sequence[str], position: Position) -> str:
    payload = json.dumps([_VERSION, list_name, list(scope), list(position)], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def decode(token: str, secret: str, *, list_name: str, scope: Sequence[str]) -> list[Any]:
    """The position a cursor of this list and scope carries; InvalidCursor for anything else."""
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except ValueError:  # binascii.Error is a ValueError
        raise InvalidCursor("malformed") from None
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidCursor("bad signature")
    fields = json.loads(payload)
    if not isinstance(fields, list) or len(fields) != 4 or fields[0] != _VERSION:
        raise InvalidCursor("unknown version")
    _, name, its_scope, position = fields
    if name != list_name or its_scope != list(scope):
        raise InvalidCursor("issued for another list")
    if not isinstance(position, list):
        raise InvalidCursor("malformed position")
    return position
