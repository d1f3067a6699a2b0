"""The four API events/ files, invoked as they are (the same files `sam local invoke -e` takes), with the
figures and rows they must produce. Every events/ file is also invoked against the built artifact
(tests/e2e/test_build.py) and by `make sam-local-check`; the queue, schedule and custom-resource events by
their functions' own tests."""

import psycopg
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_job import app as get_job_app
from functions.list_jobs import app as list_jobs_app
from tests.api_client import invoke, load_event
from tests.factories import EVENT_DATASET_ID, EVENT_JOB_ID, EVENT_USER_ID, insert_dataset, insert_job
from tests.services import QueueReader


def test_estimate_event_returns_the_reference_figures(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)

    response = invoke(estimate_app, load_event("estimate"))

    assert response.status == 200, response.raw_body
    assert response.headers["content-type"] == "application/json"
    assert response.body == {
        "success": True,
        "data": {
            "base_model": "mistral-7b-v0.3",
            "estimated_cost": 5.94,
            "cost_breakdown": {"compute": 5.44, "storage": 0.5},
            "estimated_duration_hours": 0.78,
            "hourly_rate": 7,
            "training_details": {
                "total_steps": 3750,
                "steps_per_epoch": 1250,
                "estimated_throughput_tokens_per_sec": 3600,
                "dataset_name": "Customer support v1",
            },
            "pricing_version": "2025-12-25",
        },
    }


def test_create_job_event_creates_a_queued_job(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)

    response = invoke(create_job_app, load_event("create_job"))

    assert response.status == 201, response.raw_body
    assert response.body["data"]["status"] == "queued"
    assert len(sqs_queue.receive_all()) == 1


def test_list_jobs_event_lists_the_callers_queued_jobs(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    invoke(create_job_app, load_event("create_job"))

    response = invoke(list_jobs_app, load_event("list_jobs"))

    assert response.status == 200, response.raw_body
    assert [job["status"] for job in response.body["data"]["jobs"]] == ["queued"]
    assert response.body["data"]["pagination"] == {"page": 1, "limit": 10, "total": 1, "totalPages": 1}


def test_get_job_event_returns_the_job_with_that_id(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)

    response = invoke(get_job_app, load_event("get_job"))

    assert response.status == 200, response.raw_body
    assert response.body["data"]["id"] == str(EVENT_JOB_ID)
    assert response.body["data"]["dataset"] == {
        "name": "Customer support v1",
        "format": "jsonl",
        "total_training_pairs": 5000,
    }
