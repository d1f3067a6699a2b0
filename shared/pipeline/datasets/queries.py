"""Reading the caller's datasets. Someone else's, or one that does not exist, is not found."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.models import DatasetList, DatasetSummary, summary_from_row
from pipeline.db import cursor
from pipeline.db.database import Database
from pipeline.errors import DatasetNotFound, InvalidInput
from pipeline.models import CURSOR_MAX_LENGTH, RequestModel


class DatasetsQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, description="next_cursor of a page"
    )


def get_dataset(database: Database, user_id: UUID, raw_dataset_id: str) -> DatasetSummary:
    try:
        dataset_id = UUID(raw_dataset_id)
    except ValueError:
        # A malformed id names no dataset: the same answer as one that is missing or not the caller's.
        raise DatasetNotFound() from None
    found = database.read(
        user_id, lambda conn: datasets_repository.detail_for_user(conn, dataset_id, user_id).result
    )
    if found is None:
        raise DatasetNotFound()
    return summary_from_row(found)


def list_datasets(database: Database, user_id: UUID, query: DatasetsQuery, cursor_secret: str) -> DatasetList:
    """The caller's datasets, newest first, a page at a time."""
    scope = [str(user_id)]
    after = _after(query.cursor, scope, cursor_secret) if query.cursor is not None else None
    limit = query.limit + 1  # one more than the page: whether an older page exists
    rows: list[dict[str, Any]] = database.read(
        user_id,
        lambda conn: datasets_repository.list_for_user(conn, user_id, limit=limit, after=after).result,
    )
    page = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        last = page[-1]
        next_cursor = cursor.encode(
            cursor_secret,
            list_name="datasets",
            scope=scope,
            position=[last["created_at"].isoformat(), str(last["id"])],
        )
    return DatasetList(datasets=[summary_from_row(row) for row in page], next_cursor=next_cursor)


def _after(token: str, scope: list[str], secret: str) -> tuple[datetime, UUID]:
    try:
        created_at, dataset_id = cursor.decode(token, secret, list_name="datasets", scope=scope)
        return datetime.fromisoformat(str(created_at)), UUID(str(dataset_id))
    except (cursor.InvalidCursor, ValueError, TypeError):
        raise InvalidInput("cursor", "Invalid cursor") from None
