"""Opaque, signed keyset-pagination cursors for GET /jobs.

A cursor names the last job of a page (its created_at and id), the page number that follows, the
page size and status filter it was issued for and the user it was issued to, signed with HMAC-SHA256:
pages of another size would skip or repeat rows, so a cursor only continues pages of its own size. A
cursor that was altered, or that belongs to someone else, is refused (400); it never selects other data.
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Literal, NamedTuple, Self
from uuid import UUID

from pydantic import Field, model_validator

from pipeline.aws.secrets import SecretUnavailable, SecretValue
from pipeline.runtime.settings import EnvSettings

_VERSION = 2  # 2: the page size is part of the position


class PaginationSettings(EnvSettings):
    # Signs the list's keyset cursors; any secret string, the same for every instance of list_jobs.
    # Locally the value itself; in AWS a Secrets Manager secret, read on first use.
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


class CursorPosition(NamedTuple):
    user_id: UUID
    status: str | None
    page: int  # the page this cursor opens
    limit: int  # the page size it was issued for
    created_at: datetime  # of the last job on the previous page
    job_id: UUID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()


def encode(position: CursorPosition, secret: str) -> str:
    payload = json.dumps(
        [
            _VERSION,
            str(position.user_id),
            position.status,
            position.page,
            position.limit,
            position.created_at.isoformat(),
            str(position.job_id),
        ],
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def decode(token: str, secret: str, *, user_id: UUID) -> CursorPosition:
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except ValueError:
        raise InvalidCursor("malformed") from None
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidCursor("bad signature")
    fields = json.loads(payload)
    if not isinstance(fields, list) or not fields or fields[0] != _VERSION:
        raise InvalidCursor("unknown version")
    _, user, status, page, limit, created_at, job_id = fields
    position = CursorPosition(
        UUID(user), status, int(page), int(limit), datetime.fromisoformat(created_at), UUID(job_id)
    )
    if position.user_id != user_id:
        raise InvalidCursor("issued to another user")
    return position
