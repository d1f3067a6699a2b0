"""The job reports queue's consumer as Lambda runs it: the FIFO event's reports applied in order, and a
database failure handing back that job's reports (and only that job's) for another delivery."""

import copy
import json
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.job_reports import app as reports_app
from pipeline.db.database import Database, DatabaseSettings
from pipeline.workers import reports as job_reports
from tests.api_client import FakeLambdaContext, load_event
from tests.factories import EVENT_DATASET_ID, EVENT_JOB_ID, EVENT_USER_ID, insert_dataset, insert_job

UNREACHABLE = Database(DatabaseSettings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    return dict(reports_app.lambda_handler(event, FakeLambdaContext()))


def test_the_events_reports_start_the_job_and_record_its_progress(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(
        db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID, status="initializing"
    )

    assert _invoke(load_event("job_reports")) == {"batchItemFailures": []}

    row = db.execute(
        "select status, current_step, gpu_seconds, current_cost, last_report_sequence"
        " from lora_training_jobs where id = %s",
        (EVENT_JOB_ID,),
    ).fetchone()
    # 1200.5 GPU-seconds of an H100 (the factory's job) at $4.20 an hour: $1.40.
    assert row == {
        "status": "running",
        "current_step": 100,
        "gpu_seconds": Decimal("1200.500"),
        "current_cost": Decimal("1.40"),
        "last_report_sequence": 2,
    }


def test_a_repeated_delivery_of_the_same_batch_changes_nothing(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(
        db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID, status="initializing"
    )
    _invoke(load_event("job_reports"))
    events = db.execute("select count(*) as n from job_events").fetchone()

    assert _invoke(load_event("job_reports")) == {"batchItemFailures": []}
    assert db.execute("select count(*) as n from job_events").fetchone() == events


def test_a_database_failure_hands_back_that_jobs_reports_and_no_other_jobs(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    event = load_event("job_reports")
    other = copy.deepcopy(event["Records"][0])
    other["messageId"] = str(uuid4())
    other_job = str(uuid4())
    other["body"] = json.dumps(json.loads(other["body"]) | {"job_id": other_job})
    other["attributes"]["MessageGroupId"] = other_job
    applied: list[str] = []
    real_apply = job_reports.apply_report

    def apply(database: Database, body: str, workers: Any, **kwargs: Any) -> str:
        if json.loads(body)["job_id"] == str(EVENT_JOB_ID):
            return str(real_apply(UNREACHABLE, body, workers))  # raises: database down
        applied.append(body)
        return "applied"

    monkeypatch.setattr(job_reports, "apply_report", apply)
    event["Records"].insert(
        1, other
    )  # the failing job's first report, another job's, the failing job's second

    response = _invoke(event)

    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    assert failed == {event["Records"][0]["messageId"], event["Records"][2]["messageId"]}
    assert applied == [other["body"]]


@pytest.mark.parametrize(
    "poison",
    [{"gpu_seconds": 1e25}, {"gpu_seconds": 1e11}, {"metrics": {"train_loss": 1e200}}],
    ids=["gpu-time-1e25", "gpu-time-1e11", "loss-1e200"],
)
def test_a_poison_report_is_acknowledged_and_never_holds_its_jobs_next_report(
    db: psycopg.Connection[DictRow],
    poison: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(
        db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID, status="initializing"
    )
    event = load_event("job_reports")
    started, progress = event["Records"]
    bad = copy.deepcopy(progress)
    bad["messageId"] = str(uuid4())
    bad["body"] = json.dumps(json.loads(progress["body"]) | poison)
    good = copy.deepcopy(progress)
    good["body"] = json.dumps(json.loads(progress["body"]) | {"sequence": 3})
    event["Records"] = [started, bad, good]  # one job's message group: the poison between two reports

    assert _invoke(event) == {"batchItemFailures": []}

    row = db.execute(
        "select current_step, last_report_sequence from lora_training_jobs where id = %s", (EVENT_JOB_ID,)
    ).fetchone()
    assert row == {"current_step": 100, "last_report_sequence": 3}
    assert '"WorkerReportsUnprocessable":[1.0]' in capsys.readouterr().out  # counted, so alarmed
    [refusal] = [
        record for record in caplog.records if record.getMessage() == "invalid worker report acknowledged"
    ]
    assert (refusal.__dict__["job_id"], refusal.__dict__["sequence"]) == (str(EVENT_JOB_ID), "2")
