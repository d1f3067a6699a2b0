"""Reading a caller's jobs: one job by id, or a page of them. Someone else's job is not found."""

import math
from uuid import UUID

from pipeline import jobs_repository
from pipeline.database import Connection
from pipeline.errors import job_not_found
from pipeline.models import JobPage, ListJobsQuery, Pagination, TrainingJobWithDataset


def get_job(conn: Connection, user_id: UUID, raw_job_id: str) -> TrainingJobWithDataset:
    try:
        job_id = UUID(raw_job_id)
    except ValueError:
        # A malformed id names no job: same answer as a job that is missing or not the caller's.
        raise job_not_found() from None
    row = jobs_repository.get_for_user(conn, job_id, user_id)
    if row is None:
        raise job_not_found()
    return TrainingJobWithDataset.model_validate(row)


def list_jobs(conn: Connection, user_id: UUID, query: ListJobsQuery) -> JobPage:
    rows, total = jobs_repository.list_for_user(
        conn, user_id, status=query.status, limit=query.limit, offset=(query.page - 1) * query.limit
    )
    return JobPage(
        jobs=[TrainingJobWithDataset.model_validate(row) for row in rows],
        pagination=Pagination(
            page=query.page, limit=query.limit, total=total, totalPages=math.ceil(total / query.limit)
        ),
    )
