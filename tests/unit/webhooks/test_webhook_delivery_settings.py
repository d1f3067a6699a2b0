"""The delivery function's settings, validated when it starts, and the words an attempt's failure is
recorded in (what the endpoint's owner reads in GET /webhooks/{id}/deliveries)."""

import http.client
import ssl

import pytest

from pipeline.runtime.settings import ConfigurationError
from pipeline.webhooks.delivery import DeliverySettings
from pipeline.webhooks.transport import failure


def test_by_default_https_and_public_only_and_eight_attempts_over_more_than_a_day() -> None:
    settings = DeliverySettings.from_env({})
    assert settings.allow_local_receivers is False
    assert settings.retry_schedule_s == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert sum(settings.retry_schedule_s) > 24 * 3600
    assert settings.timeout_s == 10


def test_the_retry_schedule_is_read_as_comma_separated_seconds() -> None:
    settings = DeliverySettings.from_env({"WEBHOOK_RETRY_SCHEDULE_SECONDS": "1, 2,30"})
    assert settings.retry_schedule_s == (1, 2, 30)


@pytest.mark.parametrize("schedule", ["43201", "5,-1", "soon", ","])
def test_a_schedule_sqs_cannot_keep_refuses_to_start(schedule: str) -> None:
    with pytest.raises(ConfigurationError, match="WEBHOOK_RETRY_SCHEDULE_SECONDS is invalid"):
        DeliverySettings.from_env({"WEBHOOK_RETRY_SCHEDULE_SECONDS": schedule})


def test_a_timeout_past_ten_seconds_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="WEBHOOK_TIMEOUT_SECONDS is invalid"):
        DeliverySettings.from_env({"WEBHOOK_TIMEOUT_SECONDS": "30"})


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ssl.SSLCertVerificationError(1, "bad"), "TLS failed: "),
        (ConnectionRefusedError(), "Connection refused"),
        (http.client.RemoteDisconnected(""), "The receiver closed the connection without answering"),
        (ConnectionResetError(), "Connection reset by the receiver"),
        (http.client.BadStatusLine("SMTP"), "The receiver's answer was not valid HTTP"),
        (OSError(113, "No route to host"), "Connection failed"),
    ],
)
def test_each_failure_is_named_without_our_internals(error: BaseException, words: str) -> None:
    assert failure(error).startswith(words)
