"""A deadline for each database request, enforced from this side of the connection.

libpq's connect timeout, TCP keepalives and tcp_user_timeout notice a network path that went dead
(nothing acknowledged). A frozen server does not look dead: its kernel still acknowledges every packet
while the stopped process never answers, and a statement timeout is the server's own, so a request
would wait until Lambda's timeout. One watchdog thread per execution environment (started on first use)
shuts the connection's socket down when a request overruns its deadline: libpq then reports the
connection lost, and the request answers 503 within the deadline.
"""

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class RequestDeadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._changed = threading.Condition()
        self._expires_at: float | None = None
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        self._idle = False  # the watchdog waits with no deadline: only a notify wakes it
        self.expired = False  # the last request's socket was shut down by the watchdog

    @contextmanager
    def guarding(self, fd: int) -> Iterator[None]:
        """While the block runs, the socket `fd` is shut down once the deadline passes."""
        with self._changed:
            self.expired = False
            self._fd, self._expires_at = fd, time.monotonic() + self.seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="database-deadline", daemon=True)
                self._thread.start()
            elif self._idle:
                # Waking the thread costs a context switch; one that still sleeps until an earlier
                # request's deadline (never later than this one's) rechecks by itself when it wakes.
                self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                self._fd = self._expires_at = None

    def _watch(self) -> None:
        with self._changed:
            while True:
                if self._expires_at is None or self._fd is None:
                    self._idle = True
                    self._changed.wait()
                    self._idle = False
                    continue
                remaining = self._expires_at - time.monotonic()
                if remaining > 0:
                    self._changed.wait(remaining)
                    continue
                _shut_down(self._fd)
                self.expired = True
                self._fd = self._expires_at = None


def _shut_down(fd: int) -> None:
    # A duplicate of the descriptor: shutting it down ends the connection for the original too (the
    # thread waiting on it wakes up to an end of file), and closing it leaves the original to its owner.
    try:
        with socket.socket(fileno=os.dup(fd)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing is waiting on it
