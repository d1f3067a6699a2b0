"""Reading a caller's job's event feed, oldest first, by cursor: a client tails it by asking again with
the last page's next_cursor. Someone else's job, or no such job, is not found."""

import base64
import binascii
from collections.abc import Callable
from typing import Any
from uuid import UUID

from pipeline.db.database import Connection, Database
from pipeline.errors import InvalidQuery, JobNotFound
from pipeline.history import repository as job_events_repository
from pipeline.history.feed_models import JobEvent, JobEventPage, JobEventsQuery
from pipeline.jobs import repository as jobs_repository

_CURSOR_PREFIX = "e1:"


def list_events(database: Database, user_id: UUID, raw_job_id: str, query: JobEventsQuery) -> JobEventPage:
    try:
        job_id = UUID(raw_job_id)
    except ValueError:
        raise JobNotFound() from None
    after = _after(query.cursor, job_id) if query.cursor is not None else 0

    # The job's existence and its page from one snapshot, in one round trip.
    def queue(conn: Connection) -> Callable[[], tuple[str | None, list[dict[str, Any]]]]:
        status = jobs_repository.status_for_user(conn, job_id, user_id)
        rows = job_events_repository.list_for_job(
            conn, job_id, user_id, after_id=after, limit=query.limit + 1
        )
        return lambda: (status.result(), rows.result())

    status, rows = database.read(user_id, queue, one_snapshot=True)
    if status is None:
        raise JobNotFound()
    page = rows[: query.limit]
    last = page[-1]["id"] if page else after
    return JobEventPage(
        events=[JobEvent.model_validate(row) for row in page],
        next_cursor=_cursor(job_id, last) if last else None,
        has_more=len(rows) > query.limit,
    )


def _cursor(job_id: UUID, after_id: int) -> str:
    # Not signed: it only says where in the caller's own job's feed to go on (another job's cursor is
    # refused, and row level security shows nothing else).
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{job_id}:{after_id}".encode()).decode().rstrip("=")


def _after(cursor: str, job_id: UUID) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, rest = text.partition(":")
        cursor_job, _, after = rest.rpartition(":")
        if f"{prefix}:" != _CURSOR_PREFIX or UUID(cursor_job) != job_id or not after.isdigit():
            raise ValueError(text)
        return int(after)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery("cursor", "Invalid cursor") from None
