"""Integration tests: a real PostgreSQL and a mocked SQS (tests/services.py), started when this folder
is collected, before its test modules import any function."""

import pytest

from tests import services
from tests.services import cloudformation, db, sqs_queue, worker_control_queue, worker_db, worker_tasks_queue

__all__ = ["cloudformation", "db", "sqs_queue", "worker_control_queue", "worker_db", "worker_tasks_queue"]


def pytest_configure(config: pytest.Config) -> None:
    services.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    services.stop()
