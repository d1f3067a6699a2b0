"""The local SQS event source: the event it builds and which messages it deletes afterwards."""

import json
from typing import Any

from local.queue_consumers import handled_message_ids, sqs_event
from local.sam_template import SqsSource
from local.stack_process import REPO_ROOT

MESSAGES: list[Any] = [
    {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "Body": json.dumps({"job_id": message_id}),
        "MD5OfBody": "0" * 32,
        "Attributes": {"ApproximateReceiveCount": "1"},
        "MessageAttributes": {"type": {"DataType": "String", "StringValue": "training_job.queued"}},
    }
    for message_id in ("a", "b", "c")
]
REPORTING = SqsSource("JobsQueue", report_batch_item_failures=True)


def test_event_has_the_shape_of_the_recorded_lambda_sqs_event() -> None:
    recorded = json.loads((REPO_ROOT / "events" / "job_dispatcher.json").read_text())["Records"][0]

    (record,) = sqs_event(MESSAGES[:1], "arn:aws:sqs:us-east-1:123456789012:pipeline-jobs", "us-east-1")[
        "Records"
    ]

    assert set(record) == set(recorded)
    assert set(record["messageAttributes"]["type"]) == set(recorded["messageAttributes"]["type"])
    assert (record["messageId"], record["receiptHandle"], record["eventSource"]) == (
        "a",
        "handle-a",
        "aws:sqs",
    )
    assert record["messageAttributes"]["type"]["stringValue"] == "training_job.queued"


def test_messages_reported_failed_stay_and_the_rest_are_deleted() -> None:
    result = {"batchItemFailures": [{"itemIdentifier": "b"}]}

    assert handled_message_ids(MESSAGES, result, REPORTING) == ["a", "c"]
    assert handled_message_ids(MESSAGES, {"batchItemFailures": []}, REPORTING) == ["a", "b", "c"]


def test_without_partial_batch_responses_a_returned_batch_is_all_handled() -> None:
    # Lambda ignores batchItemFailures unless the mapping asks for them: the whole batch succeeded.
    plain = SqsSource("JobsQueue", report_batch_item_failures=False)

    assert handled_message_ids(MESSAGES, {"batchItemFailures": [{"itemIdentifier": "b"}]}, plain) == [
        "a",
        "b",
        "c",
    ]
