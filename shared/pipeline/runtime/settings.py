"""Configuration from the environment, validated when a function starts.

Each function loads only the settings it needs, so a missing variable fails that function's start with
a message naming the variable, and nothing else. Here: the base model and the database settings every
function reads; the others beside the code that reads them (sqs_publisher.QueueSettings,
pagination_cursor.PaginationSettings, outbox_relay.RelaySettings, migrate.MigrationSettings).
"""

import os
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigurationError(RuntimeError):
    pass


class EnvSettings(BaseModel):
    # Built when a function first reads its settings. Settings that not every function reads are defined
    # beside the code that uses them (sqs_publisher, pagination_cursor, outbox_relay, migrate): a pydantic
    # class costs every function that imports it cold-start time to define.
    model_config = ConfigDict(frozen=True, populate_by_name=False, defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        try:
            return cls.model_validate({key: value for key, value in environ.items() if value != ""})
        except ValidationError as exc:
            problems = []
            for error in exc.errors(include_url=False):
                if not error["loc"]:  # a rule over several variables: its message says it all
                    problems.append(str(error["msg"]).removeprefix("Value error, "))
                    continue
                name = str(error["loc"][0])
                problem = "is not set" if error["type"] == "missing" else f"is invalid: {error['msg']}"
                problems.append(f"environment variable {name} {problem}")
            raise ConfigurationError("; ".join(problems)) from None


class DatabaseSettings(EnvSettings):
    # Locally a URI; in AWS a Secrets Manager secret whose JSON has "url" (rotation-safe).
    database_url: str | None = Field(default=None, alias="DATABASE_URL", pattern=r"^postgres(ql)?://")
    database_secret_arn: str | None = Field(
        default=None, alias="DATABASE_SECRET_ARN", pattern=r"^arn:aws[a-z-]*:secretsmanager:"
    )
    # How the secret is read: the Parameters and Secrets extension, or botocore (SnapStart functions).
    secret_reader: Literal["extension", "sdk"] = Field(default="extension", alias="DATABASE_SECRET_READER")
    secret_max_age_s: int = Field(default=300, alias="DATABASE_SECRET_MAX_AGE_SECONDS", ge=0)
    secrets_extension_port: int = Field(default=2773, alias="PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
    # Seconds to wait for a connection, and milliseconds any statement may run: a stuck database
    # must answer 503 quickly, well inside the Lambda timeout.
    connect_timeout_s: int = Field(default=3, alias="DATABASE_CONNECT_TIMEOUT", ge=1, le=30)
    statement_timeout_ms: int = Field(default=5000, alias="DATABASE_STATEMENT_TIMEOUT_MS", ge=100)
    # The most a request waits on the database, enforced here (pipeline.db.request_deadline): a frozen
    # server enforces no statement timeout. Well inside the functions' 10 s Lambda timeout.
    request_deadline_ms: int = Field(default=5000, alias="DATABASE_REQUEST_DEADLINE_MS", ge=100, le=60_000)
    # TLS to the database: libpq's sslmode. The template sets require; unset, libpq's default (prefer).
    sslmode: str | None = Field(
        default=None,
        alias="DATABASE_SSLMODE",
        pattern=r"^(disable|allow|prefer|require|verify-ca|verify-full)$",
    )
    # Behind RDS Proxy, server-side prepared statements pin each client to one database connection.
    behind_proxy: bool = Field(default=False, alias="DATABASE_BEHIND_PROXY")

    @model_validator(mode="after")
    def _has_a_database(self) -> Self:
        if self.database_url is None and self.database_secret_arn is None:
            raise ValueError("environment variable DATABASE_URL (or DATABASE_SECRET_ARN) is not set")
        return self
