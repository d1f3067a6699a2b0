"""Webhook endpoints through their functions, as API Gateway invokes them: register (the secret shown
once), list (never a secret), rotate (the previous secret kept for a day), delete, and the refusals:
a URL that is not https, or that names or resolves to a private, loopback or metadata address."""

from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_webhook import app as create_webhook_app
from functions.delete_webhook import app as delete_webhook_app
from functions.list_webhook_deliveries import app as list_webhook_deliveries_app
from functions.list_webhooks import app as list_webhooks_app
from functions.rotate_webhook_secret import app as rotate_webhook_secret_app
from pipeline.webhooks.endpoints import MAX_ENDPOINTS_PER_USER
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import insert_dataset, insert_job

URL = "https://hooks.example.com/pipeline"  # does not resolve here: accepted, checked at delivery


def _create(sub: UUID, **body: Any) -> ApiResponse:
    payload = {"url": URL, "events": ["job.completed", "job.failed"]} | body
    return invoke(create_webhook_app, build_event("create_webhook", sub=sub, body=payload))


def _list(sub: UUID) -> ApiResponse:
    return invoke(list_webhooks_app, build_event("list_webhooks", sub=sub))


def _delete(sub: UUID, webhook_id: str) -> ApiResponse:
    return invoke(delete_webhook_app, build_event("delete_webhook", sub=sub, path=f"/webhooks/{webhook_id}"))


def _rotate(sub: UUID, webhook_id: str) -> ApiResponse:
    event = build_event("rotate_webhook_secret", sub=sub, path=f"/webhooks/{webhook_id}/rotate-secret")
    return invoke(rotate_webhook_secret_app, event)


def _deliveries(sub: UUID, webhook_id: str, **query: str) -> ApiResponse:
    event = build_event(
        "list_webhook_deliveries", sub=sub, path=f"/webhooks/{webhook_id}/deliveries", query=query
    )
    return invoke(list_webhook_deliveries_app, event)


def test_registering_answers_201_with_the_secret_once(db: psycopg.Connection[DictRow]) -> None:
    user = uuid4()
    created = _create(user, description="CI pipeline")

    assert created.status == 201, created.body
    data = created.body["data"]
    assert data["url"] == URL
    assert data["events"] == ["job.completed", "job.failed"]
    assert data["description"] == "CI pipeline"
    assert data["secret_rotated_at"] is None
    assert data["secret"].startswith("whsec_")
    row = db.execute("select user_id, secret from webhook_endpoints where id = %s", (data["id"],)).fetchone()
    assert row == {"user_id": user, "secret": data["secret"]}

    listed = _list(user)
    assert listed.status == 200
    assert [hook["id"] for hook in listed.body["data"]["webhooks"]] == [data["id"]]
    assert '"secret"' not in listed.raw_body  # neither the field nor the value, ever again
    assert data["secret"] not in listed.raw_body


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://localhost/hook",  # a name: refused for what it resolves to
    ],
)
def test_a_private_loopback_or_metadata_url_is_refused_with_the_reason(
    db: psycopg.Connection[DictRow], url: str
) -> None:
    refused = _create(uuid4(), url=url)

    assert refused.status == 400
    assert refused.body["error"] == "Validation error"
    assert list(refused.body["details"]) == ["url"]
    assert "not a public" in refused.body["details"]["url"][0]
    assert db.execute("select count(*) as n from webhook_endpoints").fetchone() == {"n": 0}


def test_only_https_is_accepted_when_deployed(db: psycopg.Connection[DictRow]) -> None:
    refused = _create(uuid4(), url="http://hooks.example.com/pipeline")
    assert refused.status == 400
    assert refused.body["details"] == {"url": ["Only https:// URLs can receive webhooks"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": ["job.exploded"]}, "events.0"),
        ({"events": ["job.failed", "job.failed"]}, "events"),
        ({"description": "x" * 501}, "description"),
        ({"url": ""}, "url"),
    ],
)
def test_an_invalid_registration_names_its_field(
    db: psycopg.Connection[DictRow], body: dict[str, Any], field: str
) -> None:
    refused = _create(uuid4(), **body)
    assert refused.status == 400
    assert field in refused.body["details"]


def test_an_account_has_at_most_ten_endpoints(db: psycopg.Connection[DictRow]) -> None:
    user = uuid4()
    for _ in range(MAX_ENDPOINTS_PER_USER):
        assert _create(user).status == 201
    refused = _create(user)

    assert refused.status == 409
    assert refused.body["error"] == "Webhook limit reached"
    assert _create(uuid4()).status == 201  # someone else's count is their own


def test_rotating_gives_a_new_secret_and_keeps_the_previous_one_signing_for_a_day(
    db: psycopg.Connection[DictRow],
) -> None:
    user = uuid4()
    created = _create(user).body["data"]
    rotated = _rotate(user, created["id"])

    assert rotated.status == 200
    data = rotated.body["data"]
    assert data["secret"].startswith("whsec_")
    assert data["secret"] != created["secret"]
    row = db.execute(
        "select secret, previous_secret, previous_secret_expires_at - secret_rotated_at as grace"
        " from webhook_endpoints where id = %s",
        (created["id"],),
    ).fetchone()
    assert row is not None
    assert (row["secret"], row["previous_secret"]) == (data["secret"], created["secret"])
    assert row["grace"].total_seconds() == 24 * 3600
    assert data["secret_rotated_at"] is not None
    assert data["previous_secret_expires_at"] is not None


def test_deleting_answers_204_and_the_endpoint_is_gone(db: psycopg.Connection[DictRow]) -> None:
    user = uuid4()
    webhook_id = _create(user).body["data"]["id"]

    deleted = _delete(user, webhook_id)
    assert (deleted.status, deleted.raw_body) == (204, "")
    assert _list(user).body["data"]["webhooks"] == []
    assert _delete(user, webhook_id).status == 404


def test_another_users_endpoint_is_not_found_on_every_endpoint(db: psycopg.Connection[DictRow]) -> None:
    owner, other = uuid4(), uuid4()
    webhook_id = _create(owner).body["data"]["id"]
    secret = db.execute("select secret from webhook_endpoints").fetchone()

    for answer in (_rotate(other, webhook_id), _delete(other, webhook_id), _deliveries(other, webhook_id)):
        assert answer.status == 404
        assert answer.body == {"error": "Webhook not found"}
    assert _list(other).body["data"]["webhooks"] == []
    # Nothing of the owner's changed.
    assert db.execute("select secret from webhook_endpoints").fetchone() == secret
    assert _deliveries(owner, webhook_id).status == 200


@pytest.mark.parametrize("webhook_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_an_id_that_is_not_an_endpoint_is_not_found(db: psycopg.Connection[DictRow], webhook_id: str) -> None:
    user = uuid4()
    for answer in (_rotate(user, webhook_id), _delete(user, webhook_id), _deliveries(user, webhook_id)):
        assert (answer.status, answer.body) == (404, {"error": "Webhook not found"})


@pytest.mark.parametrize("cursor", ["abc", "²", "9" * 19])
def test_a_cursor_that_this_list_did_not_give_is_refused(
    db: psycopg.Connection[DictRow], cursor: str
) -> None:
    user = uuid4()
    webhook_id = _create(user).body["data"]["id"]
    refused = _deliveries(user, webhook_id, cursor=cursor)
    assert refused.status == 400
    assert list(refused.body["details"]) == ["cursor"]


def test_deliveries_page_newest_first_by_cursor(db: psycopg.Connection[DictRow]) -> None:
    user = uuid4()
    webhook_id = _create(user).body["data"]["id"]
    job_id = insert_job(db, user_id=user, dataset_id=insert_dataset(db, user_id=user))
    for event_type in ("job.status_changed", "job.completed", "job.failed"):
        db.execute(
            "insert into webhook_deliveries (endpoint_id, user_id, job_id, event_type, payload)"
            " values (%s, %s, %s, %s, '{}')",
            (webhook_id, user, job_id, event_type),
        )

    first = _deliveries(user, webhook_id, limit="2").body["data"]
    second = _deliveries(user, webhook_id, limit="2", cursor=first["next_cursor"]).body["data"]

    assert [d["event_type"] for d in first["deliveries"]] == ["job.failed", "job.completed"]
    assert [d["event_type"] for d in second["deliveries"]] == ["job.status_changed"]
    assert second["next_cursor"] is None
    assert first["deliveries"][0]["attempt_log"] == []


@pytest.mark.parametrize(
    "description", ["a\u0000b", "\u0000", "\ud800 x"], ids=["nul-inside", "nul-alone", "surrogate"]
)
def test_a_description_the_database_cannot_hold_is_a_400_naming_it(
    db: psycopg.Connection[DictRow], description: str
) -> None:
    answer = _create(uuid4(), description=description)

    assert answer.status == 400
    assert list(answer.body["details"]) == ["description"]
    assert db.execute("select count(*) as n from webhook_endpoints").fetchone() == {"n": 0}
