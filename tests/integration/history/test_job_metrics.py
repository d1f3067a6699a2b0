"""GET /jobs/{job_id}/metrics: the loss chart as the worker reported it, and a bounded series for a
long run that keeps its shape."""

import json
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.job_metrics import app as job_metrics_app
from pipeline.artifacts.locations import job_prefix
from pipeline.db.database import Database
from pipeline.workers import reports as job_reports
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import RecordedStops, insert_dataset, insert_job


def _job(db: psycopg.Connection[DictRow]) -> tuple[UUID, UUID]:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    return user_id, insert_job(db, user_id=user_id, dataset_id=dataset_id, status="initializing")


def _report(job: tuple[UUID, UUID], sequence: int, kind: str, **fields: Any) -> str:
    body = {
        "type": f"training_job.{kind}", "version": 1, "job_id": str(job[1]), "user_id": str(job[0]),
        "sequence": sequence, "sent_at": "2026-12-03T12:00:00Z",
    }  # fmt: skip
    return json.dumps(body | fields)


def _chart(job: tuple[UUID, UUID], **query: str) -> ApiResponse:
    event = build_event("job_metrics", sub=job[0], path=f"/jobs/{job[1]}/metrics", query=query)
    return invoke(job_metrics_app, event)


def test_the_chart_is_the_reported_losses_in_step_order(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    assert _chart(job).body["data"] == {"points": [], "reported_points": 0, "downsampled": False}
    job_reports.apply_report(worker_db, _report(job, 1, "started", worker_id="w"), RecordedStops())
    for sequence, step, loss in ((2, 10, 2.4), (3, 40, 1.6), (4, 80, 1.1)):
        usage = {"step": step, "epoch": 0, "gpu_seconds": step * 10}
        job_reports.apply_report(
            worker_db,
            _report(job, sequence, "progress", **usage, metrics={"train_loss": loss}),
            RecordedStops(),
        )
    job_reports.apply_report(
        worker_db,
        _report(
            job, 5, "checkpoint_saved", step=125, epoch=1, gpu_seconds=1250,
            object_key=f"{job_prefix(*job)}checkpoints/step-125/a.safetensors",
            metrics={"train_loss": 0.9, "validation_loss": 1.05},
        ), RecordedStops(),
    )  # fmt: skip
    # A re-sent report of a step already charted (a later sequence) keeps the first point.
    job_reports.apply_report(
        worker_db,
        _report(job, 6, "progress", step=125, epoch=1, gpu_seconds=1250, metrics={"train_loss": 5.0}),
        RecordedStops(),
    )

    answer = _chart(job)

    assert answer.status == 200, answer.raw_body
    assert answer.body["data"] == {
        "points": [
            {"step": 10, "epoch": 0, "train_loss": 2.4, "validation_loss": None},
            {"step": 40, "epoch": 0, "train_loss": 1.6, "validation_loss": None},
            {"step": 80, "epoch": 0, "train_loss": 1.1, "validation_loss": None},
            {"step": 125, "epoch": 1, "train_loss": 0.9, "validation_loss": 1.05},
        ],
        "reported_points": 4,
        "downsampled": False,
    }


def test_a_long_run_is_downsampled_to_max_points_equal_buckets_of_steps(
    db: psycopg.Connection[DictRow],
) -> None:
    job = _job(db)
    db.execute(
        "insert into job_metric_points (job_id, user_id, step, epoch, train_loss, validation_loss)"
        " select %s, %s, step, step / 500, step, case when step %% 500 = 0 then step / 100.0 end"
        " from generate_series(1, 1000) as step",
        (job[1], job[0]),
    )

    data = _chart(job, max_points="100").body["data"]

    assert (data["reported_points"], data["downsampled"], len(data["points"])) == (1000, True, 100)
    # Bucket k holds steps 10k-9 .. 10k: it stands at its last step with the mean of its losses.
    assert [point["step"] for point in data["points"]] == list(range(10, 1001, 10))
    assert [point["train_loss"] for point in data["points"]] == [10 * k - 4.5 for k in range(1, 101)]
    validation = {
        point["step"]: point["validation_loss"] for point in data["points"] if point["validation_loss"]
    }
    assert validation == {500: 5.0, 1000: 10.0}
    assert data["points"][-1]["epoch"] == 2
    default = _chart(job).body["data"]
    assert (len(default["points"]), default["reported_points"]) == (200, 1000)


def test_huge_losses_merged_into_one_point_do_not_overflow_the_chart(db: psycopg.Connection[DictRow]) -> None:
    # Stored before the contract bounded losses (3.4e38): avg() of a double also sums the squares,
    # and (1e200)^2 overflowed to a 500 whenever two points were merged.
    job = _job(db)
    db.execute(
        "insert into job_metric_points (job_id, user_id, step, epoch, train_loss, validation_loss)"
        " select %s, %s, step, 0, step * 1e200, null from generate_series(1, 20) as step",
        (job[1], job[0]),
    )

    answer = _chart(job, max_points="10")

    assert answer.status == 200
    assert [point["train_loss"] for point in answer.body["data"]["points"]][:2] == [1.5e200, 3.5e200]
    assert answer.body["data"]["points"][0]["validation_loss"] is None


@pytest.mark.parametrize("max_points", ["9", "501", "many"])
def test_max_points_out_of_bounds_is_a_400_naming_it(
    db: psycopg.Connection[DictRow], max_points: str
) -> None:
    answer = _chart(_job(db), max_points=max_points)

    assert answer.status == 400
    assert list(answer.body["details"]) == ["max_points"]


def test_another_users_job_or_no_job_is_not_found(db: psycopg.Connection[DictRow]) -> None:
    _, job_id = _job(db)
    for path in (f"/jobs/{job_id}/metrics", f"/jobs/{uuid4()}/metrics", "/jobs/nope/metrics"):
        answer = invoke(job_metrics_app, build_event("job_metrics", sub=uuid4(), path=path))
        assert (answer.status, answer.body) == (404, {"error": "Training job not found"}), path
