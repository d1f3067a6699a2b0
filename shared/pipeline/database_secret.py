"""The database URI from AWS Secrets Manager, through the AWS Parameters and Secrets Lambda Extension.

The extension answers on localhost over plain HTTP, so no AWS SDK is imported: estimate, list and get
keep a cold start free of boto3. The secret is cached here, in the execution environment, for
max_age_s (the extension's own cache is turned off in the template, so a forced fetch really reaches
Secrets Manager); when the database refuses the login (a rotated password), the caller fetches again.
"""

import json
import os
import time
import urllib.error
import urllib.request
from urllib.parse import quote


class SecretUnavailable(RuntimeError):
    """The extension could not give the secret; the request should be retried later (503)."""


class DatabaseSecret:
    def __init__(self, arn: str, *, port: int = 2773, max_age_s: float = 300, timeout_s: float = 2) -> None:
        self._url = f"http://localhost:{port}/secretsmanager/get?secretId={quote(arn, safe='')}"
        self._max_age_s = max_age_s
        self._timeout_s = timeout_s
        self._value: str | None = None
        self._fetched_at = 0.0

    def database_url(self, *, refresh: bool = False) -> str:
        if refresh or self._value is None or time.monotonic() - self._fetched_at > self._max_age_s:
            self._value = self._fetch()
            self._fetched_at = time.monotonic()
        return self._value

    def _fetch(self) -> str:
        # The extension only answers requests that carry the execution environment's session token.
        request = urllib.request.Request(  # noqa: S310 - the extension on localhost
            self._url, headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
                secret = json.loads(json.load(response)["SecretString"])
            url = secret["url"]
        except (urllib.error.URLError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            raise SecretUnavailable(f"database secret unavailable: {type(exc).__name__}") from None
        if not isinstance(url, str) or not url.startswith(("postgres://", "postgresql://")):
            raise SecretUnavailable("database secret has no postgresql:// url")
        return url
