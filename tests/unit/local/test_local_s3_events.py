"""The local S3's event records carry what S3 puts in every ObjectCreated record and moto leaves out:
the object's `sequencer`, a hex string that grows with each event (the dataset validator orders a key's
uploads by it), here from the clock so it keeps growing across restarts of the stack."""

import time
from types import SimpleNamespace
from typing import Any

from local.sqs_server import _with_sequencer, next_sequencer


def _moto_record(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    """What moto's own _get_s3_event builds (moto 5.2.5): no sequencer."""
    return {
        "Records": [
            {
                "eventName": event_name[3:],
                "s3": {
                    "bucket": {"name": bucket.name},
                    "object": {"key": key.name.replace("/", "%2F"), "size": 3, "eTag": "e"},
                },
            }
        ]
    }


def test_each_record_gets_a_sequencer_that_grows_with_every_event() -> None:
    build = _with_sequencer(_moto_record)
    bucket = SimpleNamespace(name="pipeline-datasets-local")
    key = SimpleNamespace(name="users/u/datasets/d/source.jsonl", version_id="null")

    sequencers = [
        build("s3:ObjectCreated:Post", bucket, key, "n")["Records"][0]["s3"]["object"]["sequencer"]
        for _ in range(3)
    ]

    assert all(len(s) == 18 and int(s, 16) for s in sequencers)
    # The validator compares them left-padded to one length: their order is the order of the events.
    assert sorted(s.rjust(64, "0") for s in sequencers) == [s.rjust(64, "0") for s in sequencers]
    assert len(set(sequencers)) == 3
    assert "versionId" not in build("s3:ObjectCreated:Put", bucket, key, "n")["Records"][0]["s3"]["object"]


def test_a_sequencer_after_a_restart_is_still_larger() -> None:
    before = next_sequencer()
    time.sleep(0.001)
    # A restarted stack starts from the clock again, which has moved on.
    assert int(f"{time.time_ns():018X}", 16) > int(before, 16)


def test_a_versioned_object_names_its_version_as_s3_does() -> None:
    build = _with_sequencer(_moto_record)
    bucket = SimpleNamespace(name="b")
    key = SimpleNamespace(name="k", version_id="3HL4kqtJvjVBH40Nrjfkd")

    assert build("s3:ObjectCreated:Put", bucket, key, "n")["Records"][0]["s3"]["object"]["versionId"] == (
        "3HL4kqtJvjVBH40Nrjfkd"
    )
