"""The one cursor scheme every list uses: signed, bound to its list and scope, opaque to clients."""

import base64
import json

import pytest

from pipeline.db import cursor
from pipeline.models import CURSOR_MAX_LENGTH

SECRET = "s" * 32
SCOPE = ["user-1", "job-1"]


def _issued(position: list[str | int | None] | None = None) -> str:
    return cursor.encode(SECRET, list_name="job_events", scope=SCOPE, position=position or [41])


def test_a_cursor_gives_back_the_position_it_was_issued_with() -> None:
    token = _issued(["completed", 3, "2026-12-07T12:00:00+00:00"])

    assert cursor.decode(token, SECRET, list_name="job_events", scope=SCOPE) == [
        "completed",
        3,
        "2026-12-07T12:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("list_name", "scope"),
    [("webhook_deliveries", SCOPE), ("job_events", ["user-2", "job-1"]), ("job_events", ["user-1", "job-2"])],
    ids=["another-list", "another-user", "another-job"],
)
def test_a_cursor_continues_only_its_own_list_and_scope(list_name: str, scope: list[str]) -> None:
    with pytest.raises(cursor.InvalidCursor, match="another list"):
        cursor.decode(_issued(), SECRET, list_name=list_name, scope=scope)


def _reencoded(token: str, change: object) -> str:
    payload, signature = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields[3] = change
    altered = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    return f"{altered}.{signature}"


@pytest.mark.parametrize(
    "token",
    [
        _reencoded(_issued(), [0]),  # the position moved, the signature kept
        _issued()[:-3],  # truncated
        "not-a-cursor",
        "a.b.c",
        cursor.encode("x" * 32, list_name="job_events", scope=SCOPE, position=[41]),  # another secret
    ],
    ids=["altered", "truncated", "garbage", "three-parts", "other-secret"],
)
def test_an_altered_or_foreign_cursor_is_refused(token: str) -> None:
    with pytest.raises(cursor.InvalidCursor):
        cursor.decode(token, SECRET, list_name="job_events", scope=SCOPE)


def test_the_longest_cursor_any_list_issues_fits_the_length_every_list_accepts() -> None:
    user, job = "ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff"
    moment = "2026-12-31T23:59:59.999999+00:00"
    longest = [
        cursor.encode(
            SECRET, list_name="jobs", scope=[user], position=["initializing", 1_000_000, 100, moment, job]
        ),
        cursor.encode(SECRET, list_name="job_events", scope=[user, job], position=[2**63 - 1]),
        cursor.encode(SECRET, list_name="job_checkpoints", scope=[user, job], position=[2**31 - 1]),
        cursor.encode(SECRET, list_name="webhook_deliveries", scope=[user, job], position=[2**63 - 1]),
        cursor.encode(SECRET, list_name="account_usage", scope=[user, "2026-12"], position=[moment, job]),
    ]

    assert max(len(token) for token in longest) <= CURSOR_MAX_LENGTH
