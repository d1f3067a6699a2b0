"""Reading a caller's jobs: one job by id, or a page of them. Someone else's job is not found."""

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from pipeline.db import cursor
from pipeline.db.database import Connection, Database
from pipeline.errors import InvalidInput, JobNotFound
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.list_models import JobPage, ListJobsQuery, Pagination
from pipeline.jobs.models import TrainingJobWithDataset


def get_job(database: Database, user_id: UUID, raw_job_id: str) -> TrainingJobWithDataset:
    """One round trip: the job is read once the reads' pipeline has synced (Database.read)."""
    try:
        job_id = UUID(raw_job_id)
    except ValueError:
        # A malformed id names no job: same answer as a job that is missing or not the caller's.
        raise JobNotFound() from None
    row = database.read(user_id, lambda conn: jobs_repository.get_for_user(conn, job_id, user_id).result)
    if row is None:
        raise JobNotFound()
    return TrainingJobWithDataset.model_validate(row)


class PagePosition(NamedTuple):
    """Where a page of the jobs list starts, as its cursor says: the filter and page size it was issued
    for (pages of another size would skip or repeat rows), the page's number, and the last job of the
    page before."""

    status: str | None
    page: int
    limit: int
    created_at: datetime
    job_id: UUID


def cursor_at(position: PagePosition, user_id: UUID, secret: str) -> str:
    return cursor.encode(
        secret,
        list_name="jobs",
        scope=[str(user_id)],
        position=[
            position.status,
            position.page,
            position.limit,
            position.created_at.isoformat(),
            str(position.job_id),
        ],
    )


def list_jobs(database: Database, user_id: UUID, query: ListJobsQuery, cursor_secret: str) -> JobPage:
    """A page by number (OFFSET) or, faster at any depth, by the previous page's next_cursor; the page
    and its total in one round trip."""
    after: PagePosition | None = None
    page, limit = query.page or 1, query.limit
    status: str | None = query.status
    if query.cursor is not None:
        after = _position(query, user_id, cursor_secret)
        page, status, limit = after.page, after.status, after.limit
    # A cursor already says where the page starts: skipping rows as well would lose them.
    offset = 0 if after is not None else (page - 1) * limit

    # One snapshot (Database.read): the page and its total agree even while jobs are written.
    def queue(conn: Connection) -> Callable[[], tuple[list[dict[str, Any]], int]]:
        rows, count = jobs_repository.list_for_user(
            conn, user_id, status=status, limit=limit, offset=offset, after=after
        )
        return lambda: (rows.result(), count.result())

    found, total = database.read(user_id, queue, one_snapshot=True)
    jobs = [TrainingJobWithDataset.model_validate(row) for row in found]
    next_cursor = None
    if jobs and page * limit < total:
        last = jobs[-1]
        next_cursor = cursor_at(
            PagePosition(status, page + 1, limit, last.created_at, last.id), user_id, cursor_secret
        )
    return JobPage(
        jobs=jobs,
        pagination=Pagination(page=page, limit=limit, total=total, totalPages=math.ceil(total / limit)),
        next_cursor=next_cursor,
    )


def _position(query: ListJobsQuery, user_id: UUID, secret: str) -> PagePosition:
    assert query.cursor is not None
    if query.page is not None:
        raise InvalidInput("cursor", "Send either page or cursor, not both")
    try:
        status, page, limit, created_at, job_id = cursor.decode(
            query.cursor, secret, list_name="jobs", scope=[str(user_id)]
        )
        position = PagePosition(
            status, int(page), int(limit), datetime.fromisoformat(created_at), UUID(job_id)
        )
    except (cursor.InvalidCursor, ValueError, TypeError):
        # Altered, truncated or someone else's: never a page of anything.
        raise InvalidInput("cursor", "Invalid cursor") from None
    if query.status is not None and query.status != position.status:
        raise InvalidInput("cursor", "The cursor was issued for another status filter")
    # Without a limit the cursor's own applies; another one would skip or repeat rows.
    if "limit" in query.model_fields_set and query.limit != position.limit:
        raise InvalidInput(
            "limit", f"The cursor was issued for limit={position.limit}; send that limit or none"
        )
    return position
