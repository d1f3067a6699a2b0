"""Deleting one of the caller's datasets: its row and its file. Refused while a job that has not ended
uses it; the jobs that used it keep the name and figures they were created with."""

from typing import Protocol
from uuid import UUID

from pipeline.aws.s3_objects import ObjectStoreFailed
from pipeline.datasets import repository as datasets_repository
from pipeline.db.database import Database
from pipeline.errors import DatasetInUse, DatasetNotFound
from pipeline.jobs import repository as jobs_repository
from pipeline.runtime.observability import logger, metrics


class ObjectDeleter(Protocol):
    def delete(self, key: str) -> None: ...


def delete_dataset(database: Database, objects: ObjectDeleter, user_id: UUID, raw_dataset_id: str) -> None:
    try:
        dataset_id = UUID(raw_dataset_id)
    except ValueError:
        raise DatasetNotFound() from None
    with database.tenant_transaction(user_id) as conn:
        # The row locked first: a job created at this moment either committed before (and is seen by
        # the check below) or waits for this transaction and then finds the dataset gone.
        locked = datasets_repository.lock_for_delete(conn, dataset_id, user_id).result()
        if locked is None:
            raise DatasetNotFound()
        unfinished = jobs_repository.unfinished_on_dataset(conn, dataset_id, user_id).result()
        if unfinished:
            raise DatasetInUse([str(job_id) for job_id in unfinished])
        datasets_repository.delete(conn, dataset_id, user_id)
    (source_key,) = locked
    if source_key is None:
        return
    try:
        objects.delete(source_key)
    except ObjectStoreFailed:  # the row is gone; a file left behind is logged and counted, never shown
        logger.exception("dataset file not deleted", dataset_id=str(dataset_id))
        metrics.add_metric(name="DatasetFileDeleteFailed", unit="Count", value=1)
