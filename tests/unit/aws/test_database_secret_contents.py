"""A database secret whose contents are not a PostgreSQL URL is unavailable (a 503 for the request),
never a URL handed to libpq, and never its text in the message."""

import pytest

from pipeline.aws.secrets import DatabaseSecret, SecretUnavailable


def _secret(contents: str) -> DatabaseSecret:
    secret = DatabaseSecret("arn:aws:secretsmanager:us-east-1:123456789012:secret:db")
    secret._secret_string = lambda: contents  # the reader's answer, without a reader
    return secret


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("not json", "database secret unavailable: JSONDecodeError"),
        ('{"password": "hunter2"}', "database secret unavailable: KeyError"),
        ('["url"]', "database secret unavailable: TypeError"),
        ('{"url": "mysql://u:hunter2@h/db"}', "database secret has no postgresql:// url"),
        ('{"url": 5432}', "database secret has no postgresql:// url"),
    ],
)
def test_a_secret_without_a_postgresql_url_is_unavailable(contents: str, message: str) -> None:
    with pytest.raises(SecretUnavailable) as refused:
        _secret(contents).database_url()
    assert str(refused.value) == message
    assert "hunter2" not in str(refused.value)


def test_a_good_secret_is_kept_until_forgotten_or_refreshed() -> None:
    answers = iter(['{"url": "postgresql://a@h/db"}', '{"url": "postgresql://b@h/db"}'])
    secret = DatabaseSecret("arn:aws:secretsmanager:us-east-1:123456789012:secret:db")
    secret._secret_string = lambda: next(answers)

    assert secret.database_url() == secret.database_url() == "postgresql://a@h/db"
    assert secret.database_url(refresh=True) == "postgresql://b@h/db"
