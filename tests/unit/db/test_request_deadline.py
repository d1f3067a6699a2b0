"""The watchdog ends a request's wait at its deadline, whether it was sleeping idle or still timing an
earlier request, and leaves a request that finished in time alone."""

import socket
import time

from pipeline.db.request_deadline import RequestDeadline


def _wait_for_an_answer_that_never_comes(deadline: RequestDeadline) -> float:
    ours, peer = socket.socketpair()  # the peer never writes: a frozen server
    with ours, peer:
        ours.settimeout(3)  # a watchdog that never fires fails the test instead of hanging it
        started = time.monotonic()
        with deadline.guarding(ours.fileno()):
            assert ours.recv(1) == b""  # woken by the shutdown, as libpq is
        return time.monotonic() - started


def test_a_wait_past_the_deadline_is_ended_at_the_deadline() -> None:
    deadline = RequestDeadline(0.2)

    elapsed = _wait_for_an_answer_that_never_comes(deadline)

    assert 0.15 < elapsed < 1.5
    assert deadline.expired


def test_the_watchdog_gone_idle_is_woken_for_the_next_request() -> None:
    deadline = RequestDeadline(0.2)
    _wait_for_an_answer_that_never_comes(deadline)
    time.sleep(0.3)  # nothing armed: the watchdog waits with no deadline now

    assert 0.15 < _wait_for_an_answer_that_never_comes(deadline) < 1.5


def test_a_request_that_finishes_in_time_keeps_its_socket() -> None:
    deadline = RequestDeadline(0.2)
    ours, peer = socket.socketpair()
    with ours, peer:
        with deadline.guarding(ours.fileno()):
            peer.sendall(b"x")
            assert ours.recv(1) == b"x"
        time.sleep(0.4)  # past the deadline it had: disarmed, nothing happens
        peer.sendall(b"y")
        assert ours.recv(1) == b"y"
        assert not deadline.expired
