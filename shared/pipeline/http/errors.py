"""The API's error format, `{"error": "...", "details": ...}` with the right status code, and the one
place where domain errors become HTTP answers.

Only what is safe for a client goes into an answer; exception text, SQL and stack traces are logged,
never returned.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from pydantic import ValidationError

from pipeline import errors as domain_errors


class ApiError(Exception):
    """An answer of the HTTP layer's own (malformed body, failed validation, no token), or a domain
    error as mapped below."""

    def __init__(
        self,
        status_code: int,
        error: str,
        details: Any = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.details = details
        self.data = data
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.details is not None:
            body["details"] = self.details
        if self.data is not None:
            body["data"] = self.data
        return body


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Pydantic errors keyed by dotted field path: {"gpu_config.count": ["Input should be ..."]}."""
    details: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        details.setdefault(path, []).append(error["msg"])
    return details


def validation_error(exc: ValidationError) -> ApiError:
    return ApiError(400, "Validation error", field_errors(exc))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "A valid bearer token is required")


RETRY_AFTER_UNAVAILABLE: Final = {"Retry-After": "5"}


def _dataset_not_ready(exc: domain_errors.DatasetNotReady) -> ApiError:
    return ApiError(
        400,
        "Dataset not ready for training",
        "Dataset must have status='ready' and training_ready=true. "
        f"Current: status='{exc.status}', training_ready={str(exc.training_ready).lower()}",
    )


def _json_number(value: Decimal | int) -> float | int:
    return float(value) if isinstance(value, Decimal) else value


def _configuration_too_large(exc: domain_errors.ConfigurationTooLarge) -> ApiError:
    return ApiError(
        422,
        "Configuration too large",
        {
            "limits": {name: _json_number(value) for name, value in exc.limits.items()},
            "exceeded": {name: float(value) for name, value in exc.exceeded.items()},
        },
    )


def _dataset_in_use(exc: domain_errors.DatasetInUse) -> ApiError:
    return ApiError(
        409,
        "Dataset in use",
        {
            "message": "Jobs that have not ended use this dataset: cancel them or wait for them to end",
            "job_ids": exc.job_ids,
        },
    )


def _gpu_setup_too_small(exc: domain_errors.GpuSetupTooSmall) -> ApiError:
    needed_gib = exc.needed_bytes / 2**30
    message = (
        f"{exc.model_name} needs {needed_gib:.1f} GiB on each GPU of {exc.gpu_count} x {exc.gpu_type} at"
        f" batch size {exc.batch_size} and LoRA rank {exc.rank}, more than its {exc.gpu_memory_gib} GiB"
    )
    if exc.smallest is None:
        message += "; no GPU setup fits it at these settings: lower the batch size or the rank"
    else:
        gpu_type, count = exc.smallest
        message += f"; the smallest setup that fits: {count} x {gpu_type}"
    return ApiError(400, "Validation error", {"gpu_config": [message]})


def _estimate_out_of_date(exc: domain_errors.EstimateOutOfDate) -> ApiError:
    return ApiError(
        409,
        "Estimate out of date",
        {
            "estimated_cost": ["Differs from the current estimate; review the new figure and resubmit"],
            "submitted_estimated_cost": float(exc.submitted),
            "current_estimated_cost": float(exc.current_cost),
        },
        data=exc.current,
    )


def _idempotency_key_in_flight(exc: domain_errors.IdempotencyKeyInFlight) -> ApiError:
    return ApiError(
        409,
        "Request in progress",
        "A request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


def _idempotency_key_reused(exc: domain_errors.IdempotencyKeyReused) -> ApiError:
    return ApiError(
        422,
        "Idempotency-Key reused",
        "This Idempotency-Key was already used with a different request body; use a new key",
    )


def _job_already_finished(exc: domain_errors.JobAlreadyFinished) -> ApiError:
    return ApiError(409, "Job already finished", f"The job is {exc.status}: there is nothing to cancel")


def _invalid_query(exc: domain_errors.InvalidInput) -> ApiError:
    return ApiError(400, "Validation error", {exc.field: [exc.message]})


def _monthly_limit_reached(exc: domain_errors.MonthlyLimitReached) -> ApiError:
    room = max(exc.limit - exc.charged - exc.committed, Decimal(0))
    return ApiError(
        409,
        "Monthly spending limit reached",
        {
            "monthly_spend_limit": float(exc.limit),
            "charged": float(exc.charged),
            "committed": float(exc.committed),
            "this_job": float(exc.job),
            "message": (
                f"This job ({exc.job:.2f}) would take the month past its limit of {exc.limit:.2f}: "
                f"{exc.charged:.2f} charged and {exc.committed:.2f} committed by jobs not yet finished"
                f" leave {room:.2f}. Raise the limit (PUT /account/limits), lower this job's max_cost,"
                " or wait for those jobs to end."
            ),
        },
    )


def _artifact_not_available(exc: domain_errors.ArtifactNotAvailable) -> ApiError:
    return ApiError(404, "Artifact not available", exc.message)


def _webhook_url_refused(exc: domain_errors.WebhookUrlRefused) -> ApiError:
    return ApiError(400, "Validation error", {"url": [exc.reason]})


def _webhook_limit_reached(exc: domain_errors.WebhookLimitReached) -> ApiError:
    return ApiError(
        409,
        "Webhook limit reached",
        f"An account can have {exc.limit} webhook endpoints: delete one to add another",
    )


def _creation_outcome_unknown(exc: domain_errors.CreationOutcomeUnknown) -> ApiError:
    return ApiError(
        503,
        "Service unavailable",
        "The connection to the database was lost while the job was being saved, so whether it was "
        "created is unknown. Retry with the same Idempotency-Key: that answers with the job if it "
        "was created, and creates it once if it was not.",
        headers=RETRY_AFTER_UNAVAILABLE,
    )


def _database_unavailable(exc: domain_errors.DatabaseUnavailable) -> ApiError:
    return ApiError(503, "Service unavailable", headers=RETRY_AFTER_UNAVAILABLE)


def _fixed(status_code: int, error: str) -> Callable[[domain_errors.DomainError], ApiError]:
    return lambda exc: ApiError(status_code, error)


# Most specific first: the first class the error is an instance of answers.
_ANSWERS: Final[tuple[tuple[type[domain_errors.DomainError], Callable[[Any], ApiError]], ...]] = (
    (domain_errors.DatasetNotFound, _fixed(404, "Dataset not found or access denied")),
    (domain_errors.DatasetNotReady, _dataset_not_ready),
    (domain_errors.ConfigurationTooLarge, _configuration_too_large),
    (domain_errors.EstimateOutOfDate, _estimate_out_of_date),
    (domain_errors.GpuSetupTooSmall, _gpu_setup_too_small),
    (domain_errors.DatasetInUse, _dataset_in_use),
    (domain_errors.IdempotencyKeyInFlight, _idempotency_key_in_flight),
    (domain_errors.IdempotencyKeyReused, _idempotency_key_reused),
    (domain_errors.JobNotFound, _fixed(404, "Training job not found")),
    (domain_errors.JobAlreadyFinished, _job_already_finished),
    (domain_errors.ArtifactNotAvailable, _artifact_not_available),
    (domain_errors.MonthlyLimitReached, _monthly_limit_reached),
    (domain_errors.InvalidInput, _invalid_query),
    (domain_errors.WebhookNotFound, _fixed(404, "Webhook not found")),
    (domain_errors.WebhookUrlRefused, _webhook_url_refused),
    (domain_errors.WebhookLimitReached, _webhook_limit_reached),
    (domain_errors.CreationOutcomeUnknown, _creation_outcome_unknown),
    (domain_errors.DatabaseUnavailable, _database_unavailable),
)


def for_domain_error(exc: domain_errors.DomainError) -> ApiError:
    """The HTTP answer to a domain error. One without an answer here is a programming error: 500."""
    for kind, answer in _ANSWERS:
        if isinstance(exc, kind):
            return answer(exc)
    raise TypeError(f"no HTTP answer for {type(exc).__name__}") from exc
