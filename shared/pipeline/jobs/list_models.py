"""Listing jobs: the query and the page."""

from typing import Final

from pydantic import Field

from pipeline.jobs.models import TrainingJobWithDataset
from pipeline.jobs.states import JobStatus
from pipeline.models import CURSOR_MAX_LENGTH, Model, RequestModel

MAX_PAGE: Final = 1_000_000  # keeps the SQL offset (page - 1) * limit far inside bigint


class ListJobsQuery(RequestModel):
    page: int | None = Field(default=None, ge=1, le=MAX_PAGE, description="Default 1; not with cursor")
    limit: int = Field(default=10, ge=1, le=100)
    status: JobStatus | None = None
    cursor: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, description="next_cursor of a page"
    )


class Pagination(Model):
    page: int
    limit: int
    total: int
    totalPages: int


class JobPage(Model):
    jobs: list[TrainingJobWithDataset]
    pagination: Pagination
    next_cursor: str | None = Field(
        description="Opaque; ?cursor= it for the next page. null on the last page"
    )
