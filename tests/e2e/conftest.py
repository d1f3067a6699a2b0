"""End-to-end tests: the local stack as `make run` starts it (one for the session: it takes a few
seconds to start), the page in a browser, and `sam build`'s artifacts (which need the database and
queue of tests/services.py, started when this folder is collected)."""

from collections.abc import Iterator

import pytest

from local.stack_process import Stack, run_cli
from tests import services
from tests.services import cloudformation, db, sqs_queue

__all__ = ["cloudformation", "db", "sqs_queue"]


def pytest_configure(config: pytest.Config) -> None:
    services.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    services.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Messages stay on the queue, where the tests read them; one test runs the queue's consumer.
    running = Stack.start(
        tmp_path_factory.mktemp("stack-state"), "--schedule-interval", "0.5", "--no-queue-consumers"
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def alice(stack: Stack) -> dict[str, str]:
    """A user made with the helper commands, against the running stack's database and keys."""
    token = run_cli(stack.state_dir, "token", "--user", "alice").strip()
    dataset_id = run_cli(
        stack.state_dir,
        "dataset",
        "--user",
        "alice",
        "--pairs",
        "5000",
        "--tokens",
        "1200000",
        "--name",
        "Alice's",
    ).strip()
    return {"token": token, "dataset_id": dataset_id}
