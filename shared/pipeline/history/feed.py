"""Reading a caller's job's event feed, oldest first, by cursor: a client tails it by asking again with
the last page's next_cursor. Someone else's job, or no such job, is not found."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from pipeline.db import cursor
from pipeline.db.database import Connection, Database
from pipeline.errors import InvalidInput, JobNotFound
from pipeline.history import repository as job_events_repository
from pipeline.history.feed_models import JobEvent, JobEventPage, JobEventsQuery
from pipeline.jobs import repository as jobs_repository


def list_events(
    database: Database, user_id: UUID, raw_job_id: str, query: JobEventsQuery, cursor_secret: str
) -> JobEventPage:
    try:
        job_id = UUID(raw_job_id)
    except ValueError:
        raise JobNotFound() from None
    scope = [str(user_id), str(job_id)]
    after = _after(query.cursor, scope, cursor_secret) if query.cursor is not None else 0

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
        next_cursor=cursor.encode(cursor_secret, list_name="job_events", scope=scope, position=[last])
        if last
        else None,
        has_more=len(rows) > query.limit,
    )


def _after(token: str, scope: list[str], secret: str) -> int:
    try:
        (after,) = cursor.decode(token, secret, list_name="job_events", scope=scope)
    except (cursor.InvalidCursor, ValueError):
        raise InvalidInput("cursor", "Invalid cursor") from None
    if not isinstance(after, int) or after < 0:
        raise InvalidInput("cursor", "Invalid cursor")
    return after
