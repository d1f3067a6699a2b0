"""A job's checkpoints and downloads: GET /jobs/{job_id}/checkpoints lists what the worker saved, and
GET /jobs/{job_id}/download signs a short-lived GET for the final adapter or one checkpoint, for the
job's owner only and only for keys under that job's own prefix.

The signature is checked by a SigV4 query-string verifier written here from AWS's specification (the
canonical request, the string to sign, the derived key): what S3 checks before it serves the object,
including the expiry. moto, which serves the file end to end in the local-stack test, checks neither.
"""

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.job_checkpoints import app as job_checkpoints_app
from functions.job_download import app as job_download_app
from pipeline.artifacts.locations import job_prefix
from pipeline.db.database import Database
from pipeline.workers import reports as job_reports
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import RecordedStops, insert_dataset, insert_job

Job = tuple[UUID, UUID]


def _job(db: psycopg.Connection[DictRow]) -> Job:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    return user_id, insert_job(db, user_id=user_id, dataset_id=dataset_id, status="initializing")


def _report(job: Job, sequence: int, kind: str, **fields: Any) -> str:
    body = {
        "type": f"training_job.{kind}", "version": 1, "job_id": str(job[1]), "user_id": str(job[0]),
        "sequence": sequence, "sent_at": "2026-12-03T12:00:00Z",
    }  # fmt: skip
    return json.dumps(body | fields)


def _run_with_two_checkpoints(worker_db: Database, job: Job, *, complete: bool) -> None:
    prefix = job_prefix(*job)
    reports = [
        _report(job, 1, "started", worker_id="w"),
        _report(
            job, 2, "checkpoint_saved", step=60, epoch=0, gpu_seconds=600,
            object_key=f"{prefix}checkpoints/step-60/adapter_model.safetensors",
            metrics={"train_loss": 1.4, "validation_loss": 1.5},
        ),
        _report(
            job, 3, "checkpoint_saved", step=120, epoch=1, gpu_seconds=1200,
            object_key=f"{prefix}checkpoints/step-120/adapter_model.safetensors",
            metrics={"train_loss": 0.9},
        ),
    ]  # fmt: skip
    if complete:
        reports.append(
            _report(
                job, 4, "completed", step=125, epoch=1, gpu_seconds=1250,
                artifact_key=f"{prefix}adapter/adapter_model.safetensors",
            )
        )  # fmt: skip
    for body in reports:
        assert job_reports.apply_report(worker_db, body, RecordedStops()) is job_reports.Outcome.APPLIED


def _checkpoints(
    job: Job, sub: UUID | None = None, *, limit: str | None = None, cursor: str | None = None
) -> ApiResponse:
    path = f"/jobs/{job[1]}/checkpoints"
    query = {name: value for name, value in (("limit", limit), ("cursor", cursor)) if value is not None}
    return invoke(
        job_checkpoints_app, build_event("job_checkpoints", sub=sub or job[0], path=path, query=query)
    )


def _download(job: Job, sub: UUID | None = None, **query: str) -> ApiResponse:
    event = build_event("job_download", sub=sub or job[0], path=f"/jobs/{job[1]}/download", query=query or {})
    return invoke(job_download_app, event)


# ---- SigV4 query-string authentication, as S3 verifies it -----------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_refusal(url: str, secret_key: str, at: datetime) -> str | None:
    """Why S3 would refuse this presigned GET at `at`, or None when it would serve it."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        return "not SigV4"
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if at > signed_at + timedelta(seconds=int(query["X-Amz-Expires"])):
        return "Request has expired"
    _, day, region, service, _ = query["X-Amz-Credential"].split("/")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(query.items())
        if k != "X-Amz-Signature"
    )
    headers = query["X-Amz-SignedHeaders"].split(";")
    assert headers == ["host"], headers  # a browser can send nothing else we would have signed
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, query["X-Amz-Signature"]) else "SignatureDoesNotMatch"


# ---- the checkpoints -------------------------------------------------------------------------------


def test_the_checkpoints_are_listed_in_step_order_with_their_losses(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    assert _checkpoints(job).body["data"] == {
        "job_id": str(job[1]),
        "checkpoints": [],
        "adapter_available": False,
        "next_cursor": None,
    }
    _run_with_two_checkpoints(worker_db, job, complete=False)

    running = _checkpoints(job).body["data"]
    _run_to_completion = _report(
        job, 4, "completed", step=125, epoch=1, gpu_seconds=1250,
        artifact_key=f"{job_prefix(*job)}adapter/adapter_model.safetensors",
    )  # fmt: skip
    job_reports.apply_report(worker_db, _run_to_completion, RecordedStops())
    completed = _checkpoints(job).body["data"]

    assert [(c["step"], c["epoch"], c["metrics"]) for c in running["checkpoints"]] == [
        (60, 0, {"train_loss": 1.4, "validation_loss": 1.5}),
        (120, 1, {"train_loss": 0.9}),
    ]
    assert all(c["saved_at"].endswith("Z") for c in running["checkpoints"])
    assert "object_key" not in running["checkpoints"][0]  # where it lies is ours: users download
    assert running["adapter_available"] is False
    assert completed["adapter_available"] is True
    assert completed["checkpoints"] == running["checkpoints"]


def test_a_checkpoint_reported_twice_is_listed_once(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    _run_with_two_checkpoints(worker_db, job, complete=False)
    again = _report(
        job, 4, "checkpoint_saved", step=120, epoch=1, gpu_seconds=1210,
        object_key=f"{job_prefix(*job)}checkpoints/step-120/other.safetensors",
    )  # fmt: skip

    assert job_reports.apply_report(worker_db, again, RecordedStops()) is job_reports.Outcome.APPLIED
    listed = _checkpoints(job).body["data"]["checkpoints"]
    assert [c["step"] for c in listed] == [60, 120]


@pytest.mark.parametrize(
    "key",
    [
        "users/{other}/jobs/{job}/adapter/a.safetensors",  # another user's prefix
        "users/{user}/jobs/{other}/adapter/a.safetensors",  # another job's
        "users/{user}/jobs/{job}/../{other}/a.safetensors",  # climbing out
        "users/{user}/jobs/{job}/",  # the prefix itself: no file
        "jobs/{job}/adapter/a.safetensors",  # no prefix at all
    ],
)
def test_a_report_naming_a_key_outside_its_jobs_prefix_is_refused_and_stores_nothing(
    db: psycopg.Connection[DictRow], worker_db: Database, key: str
) -> None:
    job = _job(db)
    job_reports.apply_report(worker_db, _report(job, 1, "started", worker_id="w"), RecordedStops())
    named = key.format(user=job[0], job=job[1], other=uuid4())
    checkpoint = _report(job, 2, "checkpoint_saved", step=60, epoch=0, gpu_seconds=600, object_key=named)
    completion = _report(job, 2, "completed", step=125, epoch=1, gpu_seconds=1250, artifact_key=named)

    assert (
        job_reports.apply_report(worker_db, checkpoint, RecordedStops()) is job_reports.Outcome.UNPROCESSABLE
    )
    assert (
        job_reports.apply_report(worker_db, completion, RecordedStops()) is job_reports.Outcome.UNPROCESSABLE
    )

    row = db.execute(
        "select status, artifact_key, last_report_sequence from lora_training_jobs where id = %s", (job[1],)
    ).fetchone()
    assert row == {"status": "running", "artifact_key": None, "last_report_sequence": 1}
    assert db.execute(
        "select count(*) as n from job_checkpoints where job_id = %s", (job[1],)
    ).fetchone() == {"n": 0}


# ---- the downloads ---------------------------------------------------------------------------------


def test_the_adapter_of_a_completed_job_is_a_presigned_get_valid_for_five_minutes(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    db.execute("update lora_training_jobs set base_model = 'llama-3.2-3b' where id = %s", (job[1],))
    _run_with_two_checkpoints(worker_db, job, complete=True)
    asked_at = datetime.now(UTC)

    answer = _download(job)

    assert answer.status == 200, answer.raw_body
    data = answer.body["data"]
    url = urlsplit(data["url"])
    # Virtual-hosted, on the region's own endpoint: what S3 answers at once for a new bucket.
    assert url.netloc == f"{os.environ['ARTIFACTS_BUCKET']}.s3.us-east-1.amazonaws.com"
    assert url.path == f"/{job_prefix(*job)}adapter/adapter_model.safetensors"
    query = dict(parse_qsl(url.query))
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-disposition"] == f'attachment; filename="{data["file_name"]}"'
    # It names the model it adapts: an adapter loads into that model only.
    assert data["file_name"] == f"{job[1]}-llama-3.2-3b-adapter-adapter_model.safetensors"
    assert (data["artifact"], data["step"]) == ("adapter", None)
    expires_at = datetime.fromisoformat(data["expires_at"])
    assert asked_at + timedelta(seconds=299) <= expires_at <= datetime.now(UTC) + timedelta(seconds=300)
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert sigv4_refusal(data["url"], secret, datetime.now(UTC)) is None  # S3 would serve it now
    assert sigv4_refusal(data["url"], secret, expires_at + timedelta(seconds=2)) == "Request has expired"
    forged = data["url"].replace("adapter/adapter_model", "adapter/other")
    assert sigv4_refusal(forged, secret, datetime.now(UTC)) == "SignatureDoesNotMatch"


def test_each_checkpoint_can_be_downloaded_by_its_step(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    _run_with_two_checkpoints(worker_db, job, complete=False)

    answer = _download(job, artifact="checkpoint", step="60")
    by_step_alone = _download(job, step="120")

    assert (by_step_alone.status, by_step_alone.body["data"]["artifact"]) == (200, "checkpoint")
    assert urlsplit(by_step_alone.body["data"]["url"]).path.endswith(
        "/checkpoints/step-120/adapter_model.safetensors"
    )
    assert answer.status == 200, answer.raw_body
    data = answer.body["data"]
    assert urlsplit(data["url"]).path.endswith(
        f"/{job_prefix(*job)}checkpoints/step-60/adapter_model.safetensors"
    )
    assert (data["artifact"], data["step"], data["file_name"]) == (
        "checkpoint",
        60,
        f"{job[1]}-mistral-7b-v0.3-step-60-adapter_model.safetensors",
    )
    assert sigv4_refusal(data["url"], os.environ["AWS_SECRET_ACCESS_KEY"], datetime.now(UTC)) is None


def test_what_the_job_does_not_have_is_not_found_and_a_confused_query_is_a_400(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    _run_with_two_checkpoints(worker_db, job, complete=False)

    no_adapter = _download(job)
    no_step = _download(job, artifact="checkpoint", step="61")
    missing_step = _download(job, artifact="checkpoint")
    step_of_adapter = _download(job, artifact="adapter", step="60")
    unknown = _download(job, artifact="weights")

    assert (no_adapter.status, no_adapter.body) == (
        404,
        {
            "error": "Artifact not available",
            "details": "The adapter can be downloaded once the job has completed",
        },
    )
    assert (no_step.status, no_step.body["details"]) == (404, "The job has no checkpoint at step 61")
    assert (missing_step.status, missing_step.body["details"]) == (
        400,
        {"step": ["Send the checkpoint's step with artifact=checkpoint"]},
    )
    assert step_of_adapter.status == 400
    assert step_of_adapter.body["details"] == {
        "step": ["A step names a checkpoint, not the adapter: send artifact=checkpoint"]
    }
    assert (unknown.status, list(unknown.body["details"])) == (400, ["artifact"])


def test_a_key_outside_the_jobs_prefix_is_never_signed_even_when_stored(
    db: psycopg.Connection[DictRow],
) -> None:
    job = _job(db)
    other = uuid4()
    # As if written before the report check existed, or by hand: the download checks again.
    db.execute(
        "update lora_training_jobs set status = 'completed', artifact_key = %s where id = %s",
        (f"users/{other}/jobs/{uuid4()}/adapter/a.safetensors", job[1]),
    )

    answer = _download(job)

    assert (answer.status, answer.body) == (
        404,
        {"error": "Artifact not available", "details": "This file is not available"},
    )


def test_another_users_job_has_no_checkpoints_and_no_downloads_for_the_caller(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    owner_job = _job(db)
    _run_with_two_checkpoints(worker_db, owner_job, complete=True)
    stranger = uuid4()

    listed = _checkpoints(owner_job, sub=stranger)
    adapter = _download(owner_job, sub=stranger)
    checkpoint = _download(owner_job, sub=stranger, artifact="checkpoint", step="60")

    for answer in (listed, adapter, checkpoint):
        assert (answer.status, answer.body) == (404, {"error": "Training job not found"})
        assert "url" not in answer.raw_body


def _insert_checkpoints(db: psycopg.Connection[DictRow], job: Job, steps: range) -> None:
    db.execute(
        "insert into job_checkpoints (job_id, user_id, step, epoch, object_key, metrics)"
        " select %s, %s, step, 0, %s || 'checkpoints/step-' || step, '{\"train_loss\": 1.0}'"
        " from generate_series(%s::integer, %s::integer) as step",
        (job[1], job[0], job_prefix(*job), steps.start, steps.stop - 1),
    )


def test_the_checkpoints_come_a_bounded_page_at_a_time_by_cursor(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    _insert_checkpoints(db, job, range(1, 1001))  # the most a job keeps

    steps: list[int] = []
    pages = 0
    cursor: str | None = None
    while True:
        answer = _checkpoints(job, limit="200", cursor=cursor)
        assert answer.status == 200
        assert len(answer.raw_body) < 60_000  # 200 checkpoints: far below Lambda's 6 MB answer
        steps += [checkpoint["step"] for checkpoint in answer.body["data"]["checkpoints"]]
        pages += 1
        if answer.body["data"]["next_cursor"] is None:
            break
        cursor = answer.body["data"]["next_cursor"]
    assert (steps, pages) == (list(range(1, 1001)), 5)
    assert len(_checkpoints(job).body["data"]["checkpoints"]) == 100  # the default page


def test_a_checkpoints_cursor_continues_only_its_own_job(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    mine, theirs = _job(db), _job(db)
    _insert_checkpoints(db, mine, range(1, 4))
    _insert_checkpoints(db, theirs, range(1, 4))
    their_cursor = _checkpoints(theirs, limit="1").body["data"]["next_cursor"]

    refused = _checkpoints(mine, limit="1", cursor=their_cursor)

    assert (refused.status, refused.body["details"]) == (400, {"cursor": ["Invalid cursor"]})


def test_a_job_keeps_at_most_a_thousand_checkpoints_and_later_ones_still_move_it_on(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    assert (
        job_reports.apply_report(worker_db, _report(job, 1, "started", worker_id="w"), RecordedStops())
        == "applied"
    )
    _insert_checkpoints(db, job, range(1, 1001))
    later = _report(
        job, 2, "checkpoint_saved", step=1100, epoch=0, gpu_seconds=600,
        object_key=f"{job_prefix(*job)}checkpoints/step-1100/adapter_model.safetensors",
    )  # fmt: skip
    db.execute("update lora_training_jobs set total_steps = 2000 where id = %s", (job[1],))

    assert job_reports.apply_report(worker_db, later, RecordedStops()) is job_reports.Outcome.APPLIED

    kept = db.execute(
        "select count(*) as n, max(step) as last from job_checkpoints where job_id = %s", (job[1],)
    ).fetchone()
    assert kept == {"n": 1000, "last": 1000}
    moved = db.execute("select current_step from lora_training_jobs where id = %s", (job[1],)).fetchone()
    assert moved == {"current_step": 1100}
