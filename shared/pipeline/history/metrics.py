"""Reading a caller's job's loss chart: the points its worker reported, downsampled to a bounded
series for a long run. Someone else's job, or no such job, is not found."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from pipeline.db.database import Connection, Database
from pipeline.errors import JobNotFound
from pipeline.history import repository as job_events_repository
from pipeline.history.metric_models import JobMetrics, JobMetricsQuery, MetricPoint
from pipeline.jobs import repository as jobs_repository


def metrics_for_job(database: Database, user_id: UUID, raw_job_id: str, query: JobMetricsQuery) -> JobMetrics:
    try:
        job_id = UUID(raw_job_id)
    except ValueError:
        raise JobNotFound() from None

    # The job's existence and its points from one snapshot, in one round trip.
    def queue(conn: Connection) -> Callable[[], tuple[str | None, list[dict[str, Any]]]]:
        status = jobs_repository.status_for_user(conn, job_id, user_id)
        rows = job_events_repository.metric_points_for_job(conn, job_id, user_id, max_points=query.max_points)
        return lambda: (status.result(), rows.result())

    status, rows = database.read(user_id, queue, one_snapshot=True)
    if status is None:
        raise JobNotFound()
    return JobMetrics(
        points=[MetricPoint.model_validate(row) for row in rows],
        reported_points=sum(int(row["merged"]) for row in rows),
        downsampled=any(row["merged"] > 1 for row in rows),
    )
