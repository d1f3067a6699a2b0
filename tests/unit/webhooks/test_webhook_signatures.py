"""Our Standard Webhooks signatures, checked by the specification's reference library
(`standardwebhooks` from PyPI), never by our own code."""

import base64
from datetime import UTC, datetime
from uuid import UUID

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from pipeline.webhooks import signatures as webhook_signatures

BODY = b'{"type":"job.completed","data":{"job_id":"c7a1e5d2-9b3f-4a68-8e21-6f0d4b9c3a55"}}'


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = webhook_signatures.new_secret(), webhook_signatures.new_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32


def test_the_reference_library_accepts_our_headers_and_returns_the_payload() -> None:
    secret = webhook_signatures.new_secret()
    msg_id = webhook_signatures.message_id(UUID("2e7f9a1b-4c3d-4e5f-a6b7-c8d9e0f1a2b3"))
    headers = webhook_signatures.headers([secret], msg_id, _now(), BODY)

    assert msg_id == "msg_2e7f9a1b4c3d4e5fa6b7c8d9e0f1a2b3"
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["type"] == "job.completed"


def test_the_signature_is_the_specifications_hmac_of_id_timestamp_and_body() -> None:
    # The specification's own example: its secret, id, timestamp and body give this signature.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = webhook_signatures.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h | {"webhook-id": "msg_other"}, b),
        lambda h, b: (h | {"webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: (h, b.replace(b"completed", b"failed")),
    ],
    ids=["another id", "another timestamp", "another body"],
)
def test_any_change_to_id_timestamp_or_body_fails_verification(tamper: object) -> None:
    secret = webhook_signatures.new_secret()
    headers = webhook_signatures.headers([secret], "msg_1", _now(), BODY)
    changed_headers, changed_body = tamper(headers, BODY)  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(changed_body, changed_headers)


def test_another_secret_does_not_verify() -> None:
    headers = webhook_signatures.headers([webhook_signatures.new_secret()], "msg_1", _now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook_signatures.new_secret()).verify(BODY, headers)


def test_while_a_rotated_out_secret_still_signs_either_secret_verifies() -> None:
    new, old = webhook_signatures.new_secret(), webhook_signatures.new_secret()
    headers = webhook_signatures.headers([new, old], "msg_1", _now(), BODY)

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(BODY, headers) == Webhook(old).verify(BODY, headers)


def test_an_old_timestamp_is_refused_by_the_receiver() -> None:
    secret = webhook_signatures.new_secret()
    headers = webhook_signatures.headers([secret], "msg_1", _now() - 3600, BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_no_secret_signs_nothing() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        webhook_signatures.headers([], "msg_1", _now(), BODY)
    with pytest.raises(ValueError, match="whsec_"):
        webhook_signatures.signature("not-a-secret", "msg_1", 1, BODY)
