"""Secrets from AWS Secrets Manager (the database URI, the cursors' signing secret): through the AWS
Parameters and Secrets Lambda Extension, or (SnapStart functions) through botocore.

The extension answers on localhost over plain HTTP, so no AWS SDK is imported: estimate, list and get
keep a cold start free of boto3. It authenticates its callers by AWS_SESSION_TOKEN, which a SnapStart
environment does not have (its credentials come from the container endpoint instead), so SnapStart
functions read the secret with botocore's Secrets Manager client (DATABASE_SECRET_READER=sdk): built
during init, which a SnapStart function pays once, when its version is published. The secret is cached
here, in the execution environment, for max_age_s (the extension's own cache is turned off in the
template, so a forced fetch really reaches Secrets Manager); when the database refuses the login (a
rotated password), the caller fetches again. forget() drops it before a SnapStart snapshot.
"""

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

SecretReader = Literal["extension", "sdk"]


class SecretUnavailable(RuntimeError):
    """The extension could not give the secret; the request should be retried later (503)."""


class DatabaseSecret:
    def __init__(
        self,
        arn: str,
        *,
        reader: SecretReader = "extension",
        port: int = 2773,
        max_age_s: float = 300,
        timeout_s: float = 2,
    ) -> None:
        self._max_age_s = max_age_s
        self._value: str | None = None
        self._fetched_at = 0.0
        self._secret_string = secret_string_reader(arn, reader=reader, port=port, timeout_s=timeout_s)

    def database_url(self, *, refresh: bool = False) -> str:
        if refresh or self._value is None or time.monotonic() - self._fetched_at > self._max_age_s:
            self._value = self._fetch()
            self._fetched_at = time.monotonic()
        return self._value

    def forget(self) -> None:
        self._value = None

    def _fetch(self) -> str:
        try:
            url = json.loads(self._secret_string())["url"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SecretUnavailable(f"database secret unavailable: {type(exc).__name__}") from None
        if not isinstance(url, str) or not url.startswith(("postgres://", "postgresql://")):
            raise SecretUnavailable("database secret has no postgresql:// url")
        return url


class SecretValue:
    """A plain-string secret (not JSON), read on first use and kept for the execution environment:
    a secret resolved into an environment variable would sit in the function's configuration."""

    def __init__(self, arn: str, *, reader: SecretReader = "extension", port: int = 2773) -> None:
        self._read = secret_string_reader(arn, reader=reader, port=port, timeout_s=2)
        self._value: str | None = None

    def value(self) -> str:
        if self._value is None:
            self._value = self._read()
        return self._value


def secret_string_reader(arn: str, *, reader: SecretReader, port: int, timeout_s: float) -> Callable[[], str]:
    """What reads the secret's SecretString: the extension over localhost, or botocore."""
    if reader == "sdk":
        return _SecretsManagerReader(arn, timeout_s)
    return _ExtensionReader(arn, port, timeout_s)


class _ExtensionReader:
    def __init__(self, arn: str, port: int, timeout_s: float) -> None:
        self._url = f"http://localhost:{port}/secretsmanager/get?secretId={quote(arn, safe='')}"
        self._timeout_s = timeout_s

    def __call__(self) -> str:
        # The extension only answers requests that carry the execution environment's session token.
        request = urllib.request.Request(  # noqa: S310 - the extension on localhost
            self._url, headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
                secret_string = json.load(response)["SecretString"]
        except (urllib.error.URLError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            raise SecretUnavailable(f"database secret unavailable: {type(exc).__name__}") from None
        if not isinstance(secret_string, str):
            raise SecretUnavailable("database secret unavailable: no SecretString")
        return secret_string


class _SecretsManagerReader:
    """GetSecretValue with botocore (imported here only: the extension's path must not load it)."""

    def __init__(self, arn: str, timeout_s: float) -> None:
        import botocore.session
        from botocore.config import Config

        self._arn = arn
        region = arn.split(":")[3]  # arn:partition:secretsmanager:REGION:account:secret:name
        config = Config(
            connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 2, "mode": "standard"}
        )
        self._client: Any = botocore.session.get_session().create_client(
            "secretsmanager", region_name=region, config=config
        )

    def __call__(self) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            secret_string = self._client.get_secret_value(SecretId=self._arn)["SecretString"]
        except (BotoCoreError, ClientError, KeyError) as exc:
            raise SecretUnavailable(f"database secret unavailable: {type(exc).__name__}") from None
        if not isinstance(secret_string, str):
            raise SecretUnavailable("database secret unavailable: no SecretString")
        return secret_string
