"""Counts network round trips between a psycopg connection and PostgreSQL, from libpq's protocol trace.

A round trip is a run of frontend messages followed by backend ones: pipelined statements sent
together count once.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass
class RoundTrips:
    count: int = 0
    statements: int = 0


def _count(trace: str) -> RoundTrips:
    result, previous = RoundTrips(), None
    for line in trace.splitlines():
        direction, _, rest = line.partition("\t")
        if direction == "B" and previous == "F":
            result.count += 1
        message = rest.split("\t", 2)[1] if rest.count("\t") else rest
        if direction == "F" and message.split(" ", 1)[0] in ("Execute", "Query"):
            result.statements += 1
        if direction in ("F", "B"):
            previous = direction
    return result


@contextmanager
def round_trips(conn: psycopg.Connection[Any]) -> Iterator[RoundTrips]:
    """Trace `conn` inside the block; the yielded RoundTrips is filled in when the block ends."""
    result = RoundTrips()
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            yield result
        finally:
            conn.pgconn.untrace()
            trace.seek(0)
            counted = _count(trace.read())
            result.count, result.statements = counted.count, counted.statements
