"""Creating a dataset: its row, uploading, and a presigned S3 POST form for its one file.

The form is signed for exactly the dataset's key, for a file of 1 byte to MAX_FILE_BYTES, for
UPLOAD_SECONDS: S3 itself refuses anything else. The upload's ObjectCreated notification starts its
validation (datasets/validator.py), which moves it to processing, then ready or failed.
"""

from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid4

from pipeline.datasets import locations
from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.models import CreateDatasetRequest, CreatedDataset, DatasetUpload, summary_from_row
from pipeline.datasets.validation import MAX_FILE_BYTES
from pipeline.db.database import Database


class UploadSigner(Protocol):
    def upload_form(self, key: str, *, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str]]: ...


def create_dataset(
    database: Database, signer: UploadSigner, user_id: UUID, request: CreateDatasetRequest, now: datetime
) -> CreatedDataset:
    dataset_id = uuid4()
    key = locations.source_key(user_id, dataset_id)
    expires_at = now + timedelta(seconds=locations.UPLOAD_SECONDS)
    # Signed first (local, no I/O): a row is never left behind for a form that could not be made.
    url, fields = signer.upload_form(key, max_bytes=MAX_FILE_BYTES, expires_in=locations.UPLOAD_SECONDS)
    with database.tenant_transaction(user_id) as conn:
        row = datasets_repository.insert_uploading(
            conn,
            dataset_id=dataset_id,
            user_id=user_id,
            name=request.name.strip(),
            source_key=key,
            expires_at=expires_at,
            now=now,
        )
    return CreatedDataset(
        dataset=summary_from_row(row.result()),
        upload=DatasetUpload(url=url, fields=fields, expires_at=expires_at, max_bytes=MAX_FILE_BYTES),
    )
