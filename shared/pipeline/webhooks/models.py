"""Webhooks as the API answers them: endpoints (POST/GET /webhooks, DELETE /webhooks/{webhook_id},
POST /webhooks/{webhook_id}/rotate-secret), their deliveries (GET /webhooks/{webhook_id}/deliveries),
and the payload every delivery carries."""

from typing import Final, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator

from pipeline.jobs.models import StopReason
from pipeline.jobs.states import JobStatus
from pipeline.models import (
    CURSOR_MAX_LENGTH,
    DecimalNumber,
    Model,
    Money,
    RequestModel,
    StorableText,
    UtcDatetime,
)

WebhookEventType = Literal["job.status_changed", "job.completed", "job.failed", "job.cancelled"]
EVENT_TYPES: Final[tuple[WebhookEventType, ...]] = (
    "job.status_changed",
    "job.completed",
    "job.failed",
    "job.cancelled",
)
MAX_DELIVERIES_PER_PAGE: Final = 100


class CreateWebhookRequest(RequestModel):
    url: str = Field(
        min_length=1,
        max_length=1024,  # every string of a request body is at most 1024 characters (http/app.py)
        description="https:// on the public internet; every address its host resolves to must be public",
    )
    events: list[WebhookEventType] = Field(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description="The event types to deliver, each once",
        json_schema_extra={"uniqueItems": True},
    )
    description: StorableText = Field(default="", max_length=500)

    @field_validator("events")
    @classmethod
    def _each_once(cls, events: list[WebhookEventType]) -> list[WebhookEventType]:
        if len(set(events)) != len(events):
            raise ValueError("List each event type once")
        return events


class WebhookEndpoint(Model):
    id: UUID
    url: str
    description: str
    events: list[WebhookEventType]
    created_at: UtcDatetime
    secret_rotated_at: UtcDatetime | None = Field(description="When the secret was last rotated")


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str = Field(
        description="whsec_ + base64: verifies every delivery's webhook-signature. Shown only in this"
        " answer: store it now"
    )
    previous_secret_expires_at: UtcDatetime | None = Field(
        default=None,
        description="After a rotation: deliveries are signed with the previous secret too until then",
    )


class WebhookEndpointList(Model):
    webhooks: list[WebhookEndpoint] = Field(description="Oldest first")


class WebhookDeliveriesQuery(RequestModel):
    limit: int = Field(default=20, ge=1, le=MAX_DELIVERIES_PER_PAGE)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, description="next_cursor of an earlier page"
    )


class DeliveryAttempt(Model):
    attempt: int = Field(description="1 for the first")
    attempted_at: UtcDatetime
    response_status: int | None = Field(description="The receiver's HTTP status; null when it did not answer")
    response_body: str | None = Field(description="The first 512 bytes of the receiver's answer")
    error: str | None = Field(description="Why there was no answer, or why it was not sent")
    duration_ms: int


class WebhookDelivery(Model):
    id: str = Field(description="The webhook-id header: the same on every attempt")
    job_id: UUID
    event_type: WebhookEventType
    status: Literal["pending", "delivered", "failed"] = Field(
        description="pending: trying (again at next_attempt_at); delivered: answered 2xx; failed: every"
        " attempt failed"
    )
    attempts: int
    created_at: UtcDatetime
    last_attempt_at: UtcDatetime | None
    next_attempt_at: UtcDatetime | None
    response_status: int | None = Field(description="The last attempt's HTTP status")
    error: str | None = Field(description="The last attempt's failure, if it got no answer")
    delivered_at: UtcDatetime | None
    attempt_log: list[DeliveryAttempt] = Field(description="Every attempt, first first")


class WebhookDeliveryPage(Model):
    deliveries: list[WebhookDelivery] = Field(description="Newest first")
    next_cursor: str | None = Field(description="?cursor= it for older deliveries; null on the last page")


class WebhookJobData(Model):
    """What a job event tells about the job, as it stood right after the change."""

    job_id: UUID
    status: JobStatus
    previous_status: JobStatus
    dataset_id: UUID
    progress: DecimalNumber = Field(description="0 to 100")
    current_cost: Money = Field(description="USD charged so far; the final charge once the job ended")
    estimated_total_cost: Money
    error_code: str | None
    error_message: str | None
    started_at: UtcDatetime | None
    completed_at: UtcDatetime | None
    adapter_available: bool = Field(description="GET /jobs/{job_id}/download answers the adapter")
    max_cost: Money | None = Field(default=None, description="The job's budget, if its user set one")
    stop_reason: StopReason | None = Field(
        default=None, description="Why it was stopped before its end: by its user, or by a budget"
    )


class WebhookPayload(Model):
    """The body of every delivery (Standard Webhooks' recommended shape: type, timestamp, data)."""

    model_config = ConfigDict(title="WebhookPayload")

    type: WebhookEventType
    timestamp: UtcDatetime = Field(description="When the change happened")
    data: WebhookJobData
