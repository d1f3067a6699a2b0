"""Uploading a JSONL file as a dataset the way the page does, against the local stack: POST /datasets,
then the presigned S3 form it answers (a browser's multipart POST, to the local S3), then the validator's
verdict (GET /datasets/{id} until ready or failed). `make dataset FILE=...` uses it, and so does the demo
user's seed, which keeps its dataset's fixed id (the printed commands and the OpenAPI examples name it).

Nothing here needs AWS: the form names the local S3 (moto), whose notification reaches the local dataset
uploads queue, whose consumer (DatasetValidatorFunction) records the verdict.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import httpx
import psycopg

from local.stack_process import http

DEMO_FILE: Final = Path(__file__).resolve().parent / "demo" / "support-conversations.jsonl"
FINAL_STATUSES: Final = ("ready", "failed")


class UploadRefused(RuntimeError):
    """S3 (or the API) did not take the file."""


def post_form(upload: Mapping[str, Any], path: Path, *, timeout_s: float = 600) -> int:
    """POST the file to a presigned S3 form as a browser does: multipart/form-data, every field of the form
    first, the file last (S3 reads no field after it). S3's status: 204 when it took the file."""
    with path.open("rb") as body:
        response = httpx.post(
            str(upload["url"]),
            data=dict(upload["fields"]),
            files={"file": (path.name, body, "application/x-ndjson")},
            timeout=timeout_s,
        )
    if response.status_code >= 300:
        raise UploadRefused(f"S3 refused the file: {response.status_code} {response.text[:500]}")
    return response.status_code


@dataclass(frozen=True)
class Uploaded:
    dataset: dict[str, Any]  # the dataset as GET /datasets/{id} answered it last
    seconds: float  # from the POST /datasets to that answer

    @property
    def id(self) -> str:
        return str(self.dataset["id"])


def upload(
    api: str,
    token: str,
    path: Path,
    name: str,
    *,
    timeout_s: float = 600,
    on_progress: Callable[[str], None] = lambda message: None,
) -> Uploaded:
    """The whole upload through the API; returns when validation is over (ready or failed) or raises
    TimeoutError naming the dataset still being validated."""
    started = time.monotonic()
    created = http("POST", f"{api}/datasets", token=token, body={"name": name})
    if created.status != 201:
        raise UploadRefused(f"POST /datasets answered {created.status}: {created.body}")
    dataset, form = created.body["data"]["dataset"], created.body["data"]["upload"]
    post_form(form, path, timeout_s=timeout_s)
    on_progress(f"uploaded {path.stat().st_size:,} bytes as dataset {dataset['id']}; validating")
    validated = wait_for_validation(api, token, str(dataset["id"]), timeout_s=timeout_s)
    return Uploaded(validated, time.monotonic() - started)


def wait_for_validation(api: str, token: str, dataset_id: str, *, timeout_s: float = 600) -> dict[str, Any]:
    """GET /datasets/{id} until its status is ready or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = http("GET", f"{api}/datasets/{dataset_id}", token=token)
        if answer.status != 200:
            raise UploadRefused(f"GET /datasets/{dataset_id} answered {answer.status}: {answer.body}")
        dataset: dict[str, Any] = answer.body["data"]
        if dataset["status"] in FINAL_STATUSES:
            return dataset
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"dataset {dataset_id} still {dataset['status']} after {timeout_s:g} s: is `make run` running"
                " with its queue consumers (the dataset validator)?"
            )
        time.sleep(0.25)


def describe(dataset: Mapping[str, Any]) -> list[str]:
    """What validation found, in a few lines for a terminal."""
    if dataset["status"] == "ready":
        counts = dataset.get("token_counts") or {}
        tokens = ", ".join(f"{model} {figures['total']:,}" for model, figures in sorted(counts.items()))
        return [
            f"ready: {dataset['examples']:,} examples, {dataset['held_out']:,} held out for the validation"
            f" loss, {dataset['total_training_pairs']:,} to train on ({dataset['size_bytes']:,} bytes)",
            f"training tokens by base model: {tokens}",
        ]
    lines = [f"{dataset['status']}: {dataset.get('error_count', 0)} problem(s)"]
    for error in dataset.get("errors") or []:
        where = f"line {error['line']}" if error["line"] else "the file"
        lines.append(f"  {where}: {error['code']}: {error['message']}")
    return lines


# ---- the demo user's dataset: the same upload, under a fixed id ------------------------------------


def seed_demo_dataset(
    app_database_url: str,
    owner_database_url: str,
    user_id: UUID,
    dataset_id: UUID,
    name: str,
    *,
    region: str,
    validate: Callable[[Callable[[], bool]], None],
    path: Path = DEMO_FILE,
) -> dict[str, Any] | None:
    """The demo dataset as POST /datasets makes one (the layer's own row and presigned form, only its id
    fixed), its file posted to the form, then `validate(done)`, which drives the dataset uploads queue's
    consumer until done() says the validator recorded this upload (TimeoutError if it gives up). Every
    start uploads the file again: the local S3 keeps nothing across restarts, and a job on the dataset
    reads its file. The row as the API shows it."""
    from pipeline.aws.s3_presigner import PresignerSettings, S3Presigner
    from pipeline.datasets import locations
    from pipeline.datasets import repository as datasets_repository
    from pipeline.datasets.locations import DatasetsSettings
    from pipeline.datasets.validation import MAX_FILE_BYTES
    from pipeline.db.database import Database, DatabaseSettings

    key = locations.source_key(user_id, dataset_id)
    now = datetime.now(UTC)
    database = Database(DatabaseSettings(DATABASE_URL=app_database_url))
    try:
        with database.tenant_transaction(user_id) as conn:
            existing = datasets_repository.detail_for_user(conn, dataset_id, user_id).result()
            if existing is None:
                datasets_repository.insert_uploading(
                    conn,
                    dataset_id=dataset_id,
                    user_id=user_id,
                    name=name,
                    source_key=key,
                    expires_at=now + timedelta(seconds=locations.UPLOAD_SECONDS),
                    now=now,
                ).result()
        # A state folder from before uploads existed holds the demo row with made-up figures and no file.
        with psycopg.connect(owner_database_url, autocommit=True) as owner:
            owner.execute(
                "update lora_datasets set source_key = %s where id = %s and source_key is null",
                (key, dataset_id),
            )
        presigner = S3Presigner(
            PresignerSettings(AWS_REGION=region), bucket=DatasetsSettings.from_env().datasets_bucket
        )
        url, fields = presigner.upload_form(
            key, max_bytes=MAX_FILE_BYTES, expires_in=locations.UPLOAD_SECONDS
        )
        posted_at = datetime.now(UTC)
        post_form({"url": url, "fields": fields}, path)

        def current() -> dict[str, Any] | None:
            """The row once the validator recorded this upload (not the one of an earlier start)."""
            with database.tenant_transaction(user_id) as conn:
                row = datasets_repository.detail_for_user(conn, dataset_id, user_id).result()
            validated_at = row["validated_at"] if row is not None else None
            return row if validated_at is not None and validated_at >= posted_at else None

        validate(lambda: current() is not None)
        return current()
    finally:
        database.close()
