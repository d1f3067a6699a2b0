"""Every test: never reach real AWS, whatever the developer's shell has configured, and the variables
every function reads. Services (PostgreSQL, SQS) are started by the integration and end-to-end
conftests only (tests/services.py): `make unit` starts none.
"""

import os

import pytest


@pytest.hookimpl(tryfirst=True)  # before a service conftest named on the command line starts anything
def pytest_configure(config: pytest.Config) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_NAMESPACE": "PipelineTest",
            "POWERTOOLS_SERVICE_NAME": "training-jobs-api-test",
            "PAGINATION_CURSOR_SECRET": "test-cursor-secret-" + "x" * 32,
        }
    )
