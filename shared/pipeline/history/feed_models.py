"""A job's event feed: the query and the page (GET /jobs/{job_id}/events)."""

from typing import Any, Final, Literal

from pydantic import Field

from pipeline.models import CURSOR_MAX_LENGTH, Model, RequestModel, UtcDatetime

MAX_EVENTS_PER_PAGE: Final = 200

EventType = Literal["status_changed", "progress", "checkpoint", "cost", "error", "cancellation_requested"]


class JobEventsQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=MAX_EVENTS_PER_PAGE)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, description="next_cursor of an earlier page"
    )


class JobEvent(Model):
    id: int = Field(description="Increasing in the order the events happened")
    type: EventType
    created_at: UtcDatetime
    data: dict[str, Any] = Field(
        description="status_changed: from, to; progress: step, epoch, progress, cost, metrics; checkpoint:"
        " the same and object_key; cost: the final figures; error: code, message"
    )


class JobEventPage(Model):
    events: list[JobEvent] = Field(description="Oldest first")
    next_cursor: str | None = Field(
        description="Where this page ended: ?cursor= it for what comes next, now or later (tailing). null"
        " only while the job has no events"
    )
    has_more: bool = Field(description="More events already exist after this page")
