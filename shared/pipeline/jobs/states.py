"""A training job's life: its statuses and the only moves between them. Pure: no I/O.

    queued -> initializing -> running -> completed
       |            |            |-----> failed
       |            |-----> failed      `-> cancelled (the worker stopped after a cancel request)
       `------------+-----> cancelled (at once: nothing ran yet)

Every change of status anywhere goes through `transition`, so an illegal one (a report for a job that
has finished, a start for a cancelled job) is refused here, in one place, and never written.
"""

from enum import StrEnum
from typing import Final


class JobStatus(StrEnum):
    QUEUED = "queued"
    INITIALIZING = "initializing"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL: Final = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

_MOVES: Final[dict[JobStatus, frozenset[JobStatus]]] = {
    JobStatus.QUEUED: frozenset({JobStatus.INITIALIZING, JobStatus.CANCELLED}),
    JobStatus.INITIALIZING: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, current: JobStatus, target: JobStatus) -> None:
        super().__init__(f"a {current} job cannot become {target}")
        self.current = current
        self.target = target


def can_move(current: JobStatus, target: JobStatus) -> bool:
    return target in _MOVES[current]


def transition(current: JobStatus, target: JobStatus) -> JobStatus:
    """`target`, when a job in `current` may move there; IllegalTransition otherwise."""
    if not can_move(current, target):
        raise IllegalTransition(current, target)
    return target


def is_final(status: JobStatus) -> bool:
    return status in FINAL


def cancels_at_once(status: JobStatus) -> bool:
    """Nothing has run yet: a cancel ends the job now, at no charge. A running job is asked to stop."""
    return status in (JobStatus.QUEUED, JobStatus.INITIALIZING)
