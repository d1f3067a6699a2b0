"""Settings are validated when a function starts, with a message naming the variable."""

import pytest

from pipeline.aws.sqs_publisher import QueueSettings
from pipeline.db.database import DatabaseSettings
from pipeline.runtime.settings import ConfigurationError


def test_database_settings_read_the_url_and_default_timeouts() -> None:
    settings = DatabaseSettings.from_env({"DATABASE_URL": "postgresql://u@h/db"})

    assert settings.database_url == "postgresql://u@h/db"
    assert settings.connect_timeout_s == 3
    assert settings.statement_timeout_ms == 5000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, r"environment variable DATABASE_URL \(or DATABASE_SECRET_ARN\) is not set"),
        ({"DATABASE_URL": ""}, r"environment variable DATABASE_URL \(or DATABASE_SECRET_ARN\) is not set"),
        ({"DATABASE_SECRET_ARN": "not-an-arn"}, "environment variable DATABASE_SECRET_ARN is invalid"),
        ({"DATABASE_URL": "mysql://h/db"}, "environment variable DATABASE_URL is invalid"),
        (
            {"DATABASE_URL": "postgresql://h/db", "DATABASE_CONNECT_TIMEOUT": "soon"},
            "environment variable DATABASE_CONNECT_TIMEOUT is invalid",
        ),
    ],
)
def test_bad_database_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        DatabaseSettings.from_env(environ)


def test_queue_settings_name_every_missing_variable() -> None:
    with pytest.raises(ConfigurationError) as raised:
        QueueSettings.from_env({})

    assert str(raised.value) == (
        "environment variable JOBS_QUEUE_URL is not set; environment variable AWS_REGION is not set"
    )
