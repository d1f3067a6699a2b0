"""The OpenAPI 3.1 document of the HTTP API, built from the same pydantic models the functions use.

    PYTHONPATH=shared python -m tools.openapi_document > schemas/openapi.json   (`make schemas`)

A test fails when the committed document and the models drift apart. Examples use the local stack's
demo data, so the document's examples work against `make run`.
"""

import json
from typing import Any, Final

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from pipeline.artifacts.models import (
    MAX_CHECKPOINTS_PER_JOB,
    MAX_CHECKPOINTS_PER_PAGE,
    ArtifactDownload,
    JobCheckpoints,
)
from pipeline.budgets.models import MAX_USAGE_JOBS_PER_PAGE, AccountLimits, MonthlyUsage, UpdateLimitsRequest
from pipeline.catalog.configuration import CreateJobRequest, EstimateRequest
from pipeline.catalog.gpu_prices import PRICING_VERSION
from pipeline.catalog.models import Catalog
from pipeline.datasets.models import CreateDatasetRequest, CreatedDataset, DatasetList, DatasetSummary
from pipeline.history.feed_models import MAX_EVENTS_PER_PAGE, JobEventPage
from pipeline.history.metric_models import MAX_METRIC_POINTS, JobMetrics
from pipeline.http.app import MAX_BODY_BYTES
from pipeline.jobs.list_models import MAX_PAGE, JobPage
from pipeline.jobs.models import JobCancellation, TrainingJob, TrainingJobWithDataset
from pipeline.jobs.states import JobStatus
from pipeline.models import CURSOR_MAX_LENGTH, Model
from pipeline.pricing.models import Estimate
from pipeline.webhooks.models import (
    EVENT_TYPES,
    MAX_DELIVERIES_PER_PAGE,
    CreateWebhookRequest,
    WebhookDeliveryPage,
    WebhookEndpointList,
    WebhookEndpointWithSecret,
    WebhookPayload,
)

# Documentation only: the functions write these shapes from pipeline.http.errors and API Gateway's own.


class ErrorResponse(Model):
    """Every error the functions answer: {"error": ..., "details": ...}."""

    error: str
    details: Any = None
    data: Estimate | None = Field(default=None, description="409 Estimate out of date: the fresh estimate")
    request_id: str | None = Field(default=None, description="500: quote it to support")


class GatewayErrorResponse(Model):
    """What API Gateway itself answers (bad or missing token: 401; no such route: 404)."""

    message: str


DEMO_DATASET_ID: Final = "6f1c3e2a-8b4d-4f5e-9a7b-1c2d3e4f5a6b"  # seeded by `make run` for the demo user
_GPU = {"type": "A100-80GB", "count": 2}
_HYPERPARAMETERS = {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _success(model: type[BaseModel], description: str) -> dict[str, Any]:
    envelope = {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"const": True}, "data": _ref(model)},
    }
    return _json(envelope, description)


def _error(description: str) -> dict[str, Any]:
    return _json(_ref(ErrorResponse), description)


def _not_found(description: str) -> dict[str, Any]:
    """A path with an id: the function's 404, or API Gateway's own when the path matches no route (an id
    holding a slash or a line break never reaches a function)."""
    return _json(
        {"oneOf": [_ref(ErrorResponse), _ref(GatewayErrorResponse)]},
        f'{description}; {{"message": "Not Found"}} from API Gateway for a path no route matches',
    )


_UNAUTHORIZED = _json(
    {"oneOf": [_ref(GatewayErrorResponse), _ref(ErrorResponse)]},
    "No valid bearer token (API Gateway's authorizer), or no caller in it",
)
_COMMON_ERRORS = {
    "401": _UNAUTHORIZED,
    "500": _error("Unexpected failure; the body carries only request_id"),
    "503": {
        **_error("The database is unavailable; retry later"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
    },
}
_BODY_ERRORS = {
    "400": _error("Invalid JSON, or a validation error: details maps each dotted field path to messages"),
    "413": _error(f"Body larger than {MAX_BODY_BYTES} bytes"),
}


def _operation(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": operation_id, "summary": summary, **extra, "responses": responses | _COMMON_ERRORS}


_WEBHOOK_ID: Final = {"name": "webhook_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _request_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model), "example": example}}}


def build() -> dict[str, Any]:
    _, top = models_json_schema(
        [
            (EstimateRequest, "validation"),
            (CreateJobRequest, "validation"),
            (Estimate, "serialization"),
            (TrainingJob, "serialization"),
            (TrainingJobWithDataset, "serialization"),
            (JobPage, "serialization"),
            (ErrorResponse, "serialization"),
            (GatewayErrorResponse, "serialization"),
            (Catalog, "serialization"),
            (JobCancellation, "serialization"),
            (JobEventPage, "serialization"),
            (JobMetrics, "serialization"),
            (DatasetSummary, "serialization"),
            (CreateDatasetRequest, "validation"),
            (CreatedDataset, "serialization"),
            (DatasetList, "serialization"),
            (JobCheckpoints, "serialization"),
            (ArtifactDownload, "serialization"),
            (CreateWebhookRequest, "validation"),
            (WebhookEndpointWithSecret, "serialization"),
            (WebhookEndpointList, "serialization"),
            (WebhookDeliveryPage, "serialization"),
            (WebhookPayload, "serialization"),
            (AccountLimits, "serialization"),
            (UpdateLimitsRequest, "validation"),
            (MonthlyUsage, "serialization"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    # Jobs store their configuration as the create request validated it: document it as those models
    # (the response models keep plain dicts, so get and list define no request models at import).
    for name in ("TrainingJob", "TrainingJobWithDataset"):
        properties = top["$defs"][name]["properties"]
        properties["gpu_config"] = {"$ref": "#/components/schemas/GpuConfig"}
        properties["hyperparameters"] = {"$ref": "#/components/schemas/JobHyperparameters"}
    estimate_example = {
        "dataset_id": DEMO_DATASET_ID,
        "gpu_config": _GPU,
        "hyperparameters": _HYPERPARAMETERS,
    }
    create_example = estimate_example | {
        "preset_id": "balanced",
        "hyperparameters": _HYPERPARAMETERS | {"alpha": 32, "dropout": 0.1},
        "estimated_cost": 5.94,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PIPELINE training-jobs API",
            "version": "1.0.0",
            "description": (
                f"Estimate, create, list, follow and cancel LoRA training jobs. Prices: {PRICING_VERSION}."
            ),
        },
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
                "description": "Deployed: the stack's ApiUrl output",
                "variables": {"apiId": {"default": "a1b2c3d4e5"}, "region": {"default": "us-east-1"}},
            },
            {"url": "http://127.0.0.1:3000", "description": "make run"},
        ],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/jobs/estimate": {
                "post": _operation(
                    "estimateJob",
                    "Cost and duration of a training configuration on one of the caller's datasets",
                    {"200": _success(Estimate, "The estimate"), "404": _error("Dataset not the caller's")}
                    | _BODY_ERRORS,
                    requestBody=_request_body(EstimateRequest, estimate_example),
                )
            },
            "/jobs": {
                "post": _operation(
                    "createJob",
                    "Create a training job: stored as queued, announced, handed to the jobs queue",
                    {
                        "201": {
                            **_success(TrainingJob, "The created job (or, replayed, the original response)"),
                            "links": {
                                "getJob": {
                                    "operationId": "getJob",
                                    "parameters": {"job_id": "$response.body#/data/id"},
                                },
                                "jobEvents": {
                                    "operationId": "listJobEvents",
                                    "parameters": {"job_id": "$response.body#/data/id"},
                                },
                                "cancelJob": {
                                    "operationId": "cancelJob",
                                    "parameters": {"job_id": "$response.body#/data/id"},
                                },
                            },
                            "headers": {
                                "Idempotent-Replayed": {
                                    "schema": {"const": "true"},
                                    "description": "Present on a replayed response",
                                }
                            },
                        },
                        "404": _error("Dataset not the caller's"),
                        "409": {
                            **_error(
                                "Estimate out of date (data: the fresh estimate), the same key in flight,"
                                " or Monthly spending limit reached (details: the limit, what the month has"
                                " charged and committed, this job's figure)"
                            ),
                            "headers": {
                                "Retry-After": {
                                    "schema": {"type": "integer"},
                                    "description": "Seconds, on 'Request in progress'",
                                }
                            },
                        },
                        "422": _error("Idempotency-Key already used with a different body"),
                    }
                    | _BODY_ERRORS,
                    parameters=[
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Retries with the same key and body return the original response",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                                "pattern": "^[ -~]+$",
                            },
                        }
                    ],
                    requestBody=_request_body(CreateJobRequest, create_example),
                ),
                "get": _operation(
                    "listJobs",
                    "The caller's jobs, newest first",
                    {
                        "200": {
                            **_success(JobPage, "One page of jobs"),
                            "links": {
                                "nextPage": {
                                    "operationId": "listJobs",
                                    "parameters": {"cursor": "$response.body#/data/next_cursor"},
                                    "description": "The next page, while next_cursor is not null",
                                }
                            },
                        },
                        "400": _error("Invalid query parameter, or page and cursor together"),
                    },
                    parameters=[
                        {
                            "name": "page",
                            "in": "query",
                            "required": False,
                            # No schema default: a generated client would send it beside a cursor.
                            "description": "Page number, 1 when absent; not with cursor",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "next_cursor of the previous page (keyset paging); not with page",
                            "schema": {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            # No schema default either: sent beside a cursor of another limit, it is a 400.
                            "description": "Jobs per page, 10 when absent; with cursor, the cursor's own",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(JobStatus)},
                        },
                    ],
                ),
            },
            "/catalog": {
                "get": _operation(
                    "getCatalog",
                    "GPU types and prices, presets, validation ranges and pricing version",
                    {"200": _success(Catalog, "The catalog")},
                )
            },
            "/datasets": {
                "post": _operation(
                    "createDataset",
                    "A new dataset (status uploading) and the presigned S3 POST form that uploads its one"
                    " JSONL file (up to max_bytes, until expires_at): post every field of upload.fields,"
                    " then the file as the field `file`. The upload starts its validation: processing,"
                    " then ready (with its statistics) or failed (with its errors by line).",
                    {"201": _success(CreatedDataset, "The dataset and its upload form"), **_BODY_ERRORS},
                    requestBody=_request_body(CreateDatasetRequest, {"name": "Support chats"}),
                ),
                "get": _operation(
                    "listDatasets",
                    "The caller's datasets, newest first, with their status and what validation found",
                    {
                        "200": _success(DatasetList, "A page of datasets"),
                        "400": _error("A limit outside 1-200, or a cursor not of this list"),
                    },
                    parameters=[
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 512}},
                    ],
                ),
            },
            "/datasets/{dataset_id}": {
                "get": _operation(
                    "getDataset",
                    "One of the caller's datasets: its status, what validation found in its file (its"
                    " statistics, or its errors by line) and whether a job can be created on it",
                    {
                        "200": _success(DatasetSummary, "The dataset"),
                        "404": _not_found("No such dataset for the caller (also for a malformed id)"),
                    },
                    parameters=[
                        {"name": "dataset_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                ),
                "delete": _operation(
                    "deleteDataset",
                    "Delete one of the caller's datasets and its file. Jobs that used it keep its name and"
                    " figures (their dataset_id becomes null).",
                    {
                        "204": {"description": "Deleted"},
                        "404": _not_found("No such dataset for the caller (also for a malformed id)"),
                        "409": _error("Jobs that have not ended use it: details.job_ids names them"),
                    },
                    parameters=[
                        {"name": "dataset_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                ),
            },
            "/jobs/{job_id}": {
                "get": _operation(
                    "getJob",
                    "One of the caller's jobs, with its dataset",
                    {
                        "200": _success(TrainingJobWithDataset, "The job"),
                        "404": _not_found("No such job for the caller (also for a malformed id)"),
                    },
                    parameters=[
                        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                )
            },
            "/jobs/{job_id}/events": {
                "get": _operation(
                    "listJobEvents",
                    "One of the caller's jobs' events, oldest first: status changes, progress milestones,"
                    " checkpoints, cost, errors, cancellation. Tail the feed by asking again with"
                    " next_cursor.",
                    {
                        "200": _success(JobEventPage, "A page of events"),
                        "400": _error("Invalid limit or cursor"),
                        "404": _not_found("No such job for the caller (also for a malformed id)"),
                    },
                    parameters=[
                        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS_PER_PAGE},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "next_cursor of an earlier page of this job's events",
                            "schema": {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
                        },
                    ],
                )
            },
            "/jobs/{job_id}/metrics": {
                "get": _operation(
                    "getJobMetrics",
                    "One of the caller's jobs' loss chart: train and validation loss by step, as its worker"
                    " reported them, in step order. A run with more points than max_points is downsampled:"
                    " consecutive points merged into equal-count buckets, each at its last step with the"
                    " mean of its losses.",
                    {
                        "200": _success(JobMetrics, "The chart's series"),
                        "400": _error("Invalid max_points"),
                        "404": _not_found("No such job for the caller (also for a malformed id)"),
                    },
                    parameters=[
                        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "max_points",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 10, "maximum": MAX_METRIC_POINTS},
                        },
                    ],
                )
            },
            "/jobs/{job_id}/checkpoints": {
                "get": _operation(
                    "listJobCheckpoints",
                    "One of the caller's jobs' checkpoints (step, epoch, losses), in step order, a page at a"
                    " time (next_cursor for the rest), and whether its final adapter can be downloaded. A"
                    f" job keeps at most {MAX_CHECKPOINTS_PER_JOB} checkpoints.",
                    {
                        "200": {
                            **_success(JobCheckpoints, "The checkpoints"),
                            "links": {
                                "downloadAdapter": {
                                    "operationId": "downloadJobArtifact",
                                    "parameters": {"job_id": "$response.body#/data/job_id"},
                                    "description": "While adapter_available is true",
                                }
                            },
                        },
                        "400": _error("Invalid limit or cursor"),
                        "404": _not_found("No such job for the caller (also for a malformed id)"),
                    },
                    parameters=[
                        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_CHECKPOINTS_PER_PAGE},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "next_cursor of an earlier page of this job's checkpoints",
                            "schema": {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
                        },
                    ],
                )
            },
            "/jobs/{job_id}/download": {
                "get": _operation(
                    "downloadJobArtifact",
                    "A presigned URL (GET, no Authorization header, valid for 5 minutes) for one of the"
                    " caller's jobs' final adapter or one of its checkpoints",
                    {
                        "200": _success(ArtifactDownload, "The URL and when it expires"),
                        "400": _error(
                            "Invalid artifact or step, artifact=checkpoint without a step, or a step"
                            " with artifact=adapter"
                        ),
                        "404": _not_found(
                            "No such job for the caller, or no such file yet (Artifact not available)"
                        ),
                    },
                    parameters=[
                        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "artifact",
                            "in": "query",
                            "required": False,
                            "description": (
                                "adapter or checkpoint; absent: checkpoint with a step, else adapter"
                            ),
                            "schema": {"type": "string", "enum": ["adapter", "checkpoint"]},
                        },
                        {
                            "name": "step",
                            "in": "query",
                            "required": False,
                            "description": "The checkpoint's step; only with artifact=checkpoint",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 100_000_000},
                        },
                    ],
                )
            },
            "/jobs/{job_id}/cancel": {
                "post": _operation(
                    "cancelJob",
                    "Cancel one of the caller's jobs: at once when it has not started running (charged"
                    " nothing), else the running job is asked to stop and is charged the GPU time it used."
                    " A repeated cancel answers as the first did.",
                    {
                        "200": _success(JobCancellation, "What the cancel did and what the job is charged"),
                        "404": _not_found("No such job for the caller (also for a malformed id)"),
                        "409": _error("Job already finished: it completed or failed"),
                    },
                    parameters=[
                        {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                )
            },
            "/webhooks": {
                "post": _operation(
                    "createWebhook",
                    "Register a receiver of the caller's job events (at most 10 per account). Each"
                    " delivery is signed per Standard Webhooks; the secret that verifies them is in this"
                    " answer only.",
                    {
                        "201": _success(WebhookEndpointWithSecret, "The endpoint, with its secret"),
                        **_BODY_ERRORS,
                        "400": _error(
                            "Invalid JSON or a validation error; for url also: not https, or a host that"
                            " is or resolves to a private, loopback, link-local or metadata address"
                        ),
                        "409": _error("Webhook limit reached"),
                    },
                    requestBody=_request_body(
                        CreateWebhookRequest,
                        {
                            "url": "https://hooks.example.com/pipeline",
                            "events": list(EVENT_TYPES),
                            "description": "CI pipeline",
                        },
                    ),
                ),
                "get": _operation(
                    "listWebhooks",
                    "The caller's webhook endpoints, oldest first (never their secrets)",
                    {"200": _success(WebhookEndpointList, "The endpoints")},
                ),
            },
            "/account/limits": {
                "get": _operation(
                    "getAccountLimits",
                    "The caller's monthly spending limit (null: none). A create whose job would take the"
                    " month's charged and committed spend past it is refused (409); a running job that"
                    " would is stopped and never charged past it.",
                    {"200": _success(AccountLimits, "The limits")},
                ),
                "put": _operation(
                    "putAccountLimits",
                    "Set the caller's monthly spending limit (dollars and cents a calendar month, UTC), or"
                    " remove it with null",
                    {
                        "200": _success(AccountLimits, "The limits as set"),
                        **_BODY_ERRORS,
                        "400": _error("Invalid JSON, a negative or too large limit, or fractions of a cent"),
                    },
                    requestBody=_request_body(UpdateLimitsRequest, {"monthly_spend_limit": 250}),
                ),
            },
            "/account/usage": {
                "get": _operation(
                    "getAccountUsage",
                    "A month's spend against the caller's limit: what its jobs have cost (charged), what"
                    " its running jobs may still cost up to their max_cost or estimate (committed), and"
                    " its jobs, newest first, a page at a time. A job counts in the month it was created.",
                    {
                        "200": _success(MonthlyUsage, "The month's spend and a page of its jobs"),
                        "400": _error("Invalid month, limit or cursor"),
                    },
                    parameters=[
                        {
                            "name": "month",
                            "in": "query",
                            "required": False,
                            "description": "YYYY-MM (UTC), from 2000-01 to 2999-12; absent: this month",
                            "schema": {"type": "string", "pattern": "^2[0-9]{3}-(0[1-9]|1[0-2])$"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_USAGE_JOBS_PER_PAGE},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "next_cursor of an earlier page of this month's jobs",
                            "schema": {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
                        },
                    ],
                )
            },
            "/webhooks/{webhook_id}": {
                "delete": _operation(
                    "deleteWebhook",
                    "Delete one of the caller's endpoints with its deliveries: nothing more is sent to it",
                    {
                        "204": {"description": "Deleted"},
                        "404": _not_found("No such endpoint for the caller (also for a malformed id)"),
                    },
                    parameters=[_WEBHOOK_ID],
                )
            },
            "/webhooks/{webhook_id}/rotate-secret": {
                "post": _operation(
                    "rotateWebhookSecret",
                    "A new signing secret for one of the caller's endpoints, in this answer only. For 24"
                    " hours deliveries carry a signature by the previous secret too, so a receiver can"
                    " switch without refusing any.",
                    {
                        "200": _success(WebhookEndpointWithSecret, "The endpoint, with its new secret"),
                        "404": _not_found("No such endpoint for the caller (also for a malformed id)"),
                    },
                    parameters=[_WEBHOOK_ID],
                )
            },
            "/webhooks/{webhook_id}/deliveries": {
                "get": _operation(
                    "listWebhookDeliveries",
                    "One of the caller's endpoints' deliveries, newest first, each with every attempt"
                    " (time, response code, the first bytes of the answer, or why there was none)",
                    {
                        "200": _success(WebhookDeliveryPage, "A page of deliveries"),
                        "400": _error("Invalid limit or cursor"),
                        "404": _not_found("No such endpoint for the caller (also for a malformed id)"),
                    },
                    parameters=[
                        _WEBHOOK_ID,
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DELIVERIES_PER_PAGE},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "next_cursor of an earlier page",
                            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                        },
                    ],
                )
            },
        },
        "webhooks": {
            "jobEvent": {
                "post": {
                    "operationId": "receiveJobEvent",
                    "summary": "What a registered endpoint receives: job.status_changed on every change of"
                    " a job's status, and job.completed, job.failed or job.cancelled when it ends (each"
                    " only if subscribed). A failed delivery is retried with the same webhook-id after"
                    " 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; answer 2xx within 10 s.",
                    "parameters": [
                        {
                            "name": "webhook-id",
                            "in": "header",
                            "required": True,
                            "description": "msg_...: the same on every retry; drop a repeat",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "webhook-timestamp",
                            "in": "header",
                            "required": True,
                            "description": "Seconds since the epoch of this attempt; refuse an old one",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "webhook-signature",
                            "in": "header",
                            "required": True,
                            "description": "v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated"
                            " when a rotated-out secret still signs",
                            "schema": {"type": "string"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(WebhookPayload)}},
                    },
                    "responses": {"2XX": {"description": "Received; any other answer is retried"}},
                }
            }
        },
        "components": {
            "schemas": top["$defs"],
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def main() -> None:
    print(json.dumps(build(), indent=2))


if __name__ == "__main__":
    main()
