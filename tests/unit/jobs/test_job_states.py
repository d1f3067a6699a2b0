"""The state machine: every move a job may make, and every one it may not."""

import itertools

import pytest

from pipeline.jobs.states import FINAL, IllegalTransition, JobStatus, cancels_at_once, is_final, transition

S = JobStatus
LEGAL = {
    (S.QUEUED, S.INITIALIZING),  # the dispatcher claims it
    (S.QUEUED, S.CANCELLED),
    (S.INITIALIZING, S.RUNNING),  # the worker started
    (S.INITIALIZING, S.FAILED),  # e.g. the worker could not load the dataset
    (S.INITIALIZING, S.CANCELLED),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),  # the worker stopped after a cancel request
}


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_a_legal_move_is_made(current: JobStatus, target: JobStatus) -> None:
    assert transition(current, target) is target


ILLEGAL = sorted(set(itertools.product(JobStatus, JobStatus)) - LEGAL)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_other_move_is_refused(current: JobStatus, target: JobStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"a {current} job cannot become {target}"):
        transition(current, target)


def test_there_are_exactly_eight_legal_moves_of_thirty_six() -> None:
    assert (len(LEGAL), len(ILLEGAL)) == (8, 28)


def test_a_final_status_is_never_left() -> None:
    assert {S.COMPLETED, S.FAILED, S.CANCELLED} == FINAL
    for final, target in itertools.product(FINAL, JobStatus):
        assert is_final(final)
        with pytest.raises(IllegalTransition):
            transition(final, target)


def test_only_a_job_that_has_not_started_running_cancels_at_once() -> None:
    assert {status for status in JobStatus if cancels_at_once(status)} == {S.QUEUED, S.INITIALIZING}


def test_the_statuses_are_the_apis_in_lifecycle_order() -> None:
    assert list(JobStatus) == ["queued", "initializing", "running", "completed", "failed", "cancelled"]
