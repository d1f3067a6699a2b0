"""Validating an upload when S3 says it arrived (its ObjectCreated notification, through SQS).

For each record naming a dataset's source key: the dataset moves to processing (committed, so the
page shows it at once), its file is streamed through validation.validate, and what was found is
recorded: ready with its statistics, or failed with its errors by line. A notification of an upload
older than the one last validated (S3's sequencer) changes nothing; a redelivered one validates again,
to the same result. Only keys of the shape locations.source_key are read, and only for the dataset and
user they name.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote_plus
from uuid import UUID

from pipeline.aws.s3_objects import ObjectMissing
from pipeline.catalog.base_models import DEFAULT_BASE_MODEL
from pipeline.datasets import locations
from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.validation import ERROR_CODES, ModelCounter, ValidationReport, validate
from pipeline.db.database import Database
from pipeline.runtime.observability import logger


class Outcome(StrEnum):
    VALIDATED = "validated"  # ready or failed: recorded
    NOT_A_DATASET = "not_a_dataset"  # a key of another shape, another bucket, a test event
    UNKNOWN_OR_STALE = "unknown_or_stale"  # no such dataset of that user, or an older upload
    UNPROCESSABLE = "unprocessable"  # not an S3 notification


class ObjectSource(Protocol):
    bucket: str

    def chunks(self, key: str) -> Iterator[bytes]: ...


def handle_notification(
    database: Database,
    objects: ObjectSource,
    body: str,
    models: Mapping[str, ModelCounter],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Outcome:
    try:
        records = _records(json.loads(body))
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.warning("dataset upload notification unprocessable: not an S3 event")
        return Outcome.UNPROCESSABLE
    outcome = Outcome.NOT_A_DATASET
    for bucket, key, sequencer in records:
        parsed = locations.parse_source_key(key) if bucket == objects.bucket else None
        if parsed is None:
            logger.info("notification for an object that is no dataset's file: ignored", key=key[:300])
            continue
        result = _validate_upload(database, objects, key, parsed, sequencer, models, now)
        outcome = result if outcome is not Outcome.VALIDATED else outcome
    return outcome


def _records(event: Any) -> list[tuple[str, str, str]]:
    """(bucket, key, sequencer) of each ObjectCreated record; none for S3's test event."""
    if event.get("Event") == "s3:TestEvent":
        return []
    records = []
    for record in event["Records"]:
        if not str(record["eventName"]).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        # Keys arrive URL-encoded, spaces as '+'.
        key = unquote_plus(str(s3["object"]["key"]))
        records.append((str(s3["bucket"]["name"]), key, str(s3["object"]["sequencer"])))
    return records


def _validate_upload(
    database: Database,
    objects: ObjectSource,
    key: str,
    ids: tuple[UUID, UUID],
    sequencer: str,
    models: Mapping[str, ModelCounter],
    now: Callable[[], datetime],
) -> Outcome:
    user_id, dataset_id = ids
    with database.tenant_transaction(user_id) as conn:
        claimed = datasets_repository.start_validation(conn, dataset_id, user_id, sequencer).result()
    if not claimed:
        logger.info("upload of no dataset, or older than the last validated", dataset_id=str(dataset_id))
        return Outcome.UNKNOWN_OR_STALE
    try:
        report = validate(objects.chunks(key), models)
    except ObjectMissing:
        # Said to the user as the dataset's error: a retry would find no file either.
        missing = {"line": 0, "code": "file_missing", "message": ERROR_CODES["file_missing"]}
        with database.tenant_transaction(user_id) as conn:
            datasets_repository.record_missing(conn, dataset_id, user_id, sequencer, missing, now())
        logger.warning("uploaded file gone before validation", dataset_id=str(dataset_id))
        return Outcome.VALIDATED
    with database.tenant_transaction(user_id) as conn:
        datasets_repository.record_validation(conn, dataset_id, user_id, sequencer, result_of(report), now())
    logger.info(
        "dataset validated",
        dataset_id=str(dataset_id),
        ready=report.ready,
        examples=report.examples,
        errors=report.error_count,
        size_bytes=report.bytes,
    )
    return Outcome.VALIDATED


def result_of(report: ValidationReport) -> datasets_repository.ValidationResult:
    default = report.tokens.get(DEFAULT_BASE_MODEL)
    return datasets_repository.ValidationResult(
        ready=report.ready,
        training_examples=report.training_examples,
        total_tokens=default.total if default else None,
        size_bytes=report.bytes,
        sha256=report.sha256,
        examples=report.examples,
        held_out=report.held_out,
        token_counts={model_id: stats._asdict() for model_id, stats in report.tokens.items()},
        errors=[error._asdict() for error in report.errors],
        error_count=report.error_count,
    )
