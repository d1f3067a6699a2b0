"""Configuration from the environment, validated when a function starts.

Each function loads only the settings it needs, so a missing variable fails that function's start with
a message naming the variable, and nothing else. Here: the base class; each settings class is defined
beside the code that reads it (db.database.DatabaseSettings, aws.sqs_publisher.QueueSettings, ...).
"""

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigurationError(RuntimeError):
    pass


class EnvSettings(BaseModel):
    # Built when a function first reads its settings. Each settings class lives beside the code that uses
    # it: a pydantic class costs every function that imports it cold-start time to define.
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
