"""What can go wrong, in the domain's words: raised by the domain and data modules, which know nothing
of HTTP. The HTTP layer maps each to a status, body and headers in one place (http/errors.py); the
queue consumers let the transient ones raise, so SQS delivers the message again.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


class DomainError(Exception):
    """Base of every error the API answers with a 4xx or 503 instead of a 500."""


class DatasetNotFound(DomainError):
    """No such dataset, or another user's: the two are never told apart."""


class DatasetInUse(DomainError):
    """A dataset that a job not yet final uses cannot be deleted: the first of those jobs."""

    def __init__(self, job_ids: list[str]) -> None:
        super().__init__(f"dataset in use by {len(job_ids)} unfinished jobs")
        self.job_ids = job_ids


class DatasetNotReady(DomainError):
    def __init__(self, *, status: str, training_ready: bool) -> None:
        super().__init__(f"dataset not ready: status={status}, training_ready={training_ready}")
        self.status = status
        self.training_ready = training_ready


class ConfigurationTooLarge(DomainError):
    """Steps, cost or GPU time beyond the limits (pricing.cost_model.LIMITS): what was exceeded, by how
    much, and the limits themselves."""

    def __init__(self, exceeded: Mapping[str, Decimal | int], limits: Mapping[str, Decimal | int]) -> None:
        super().__init__(f"configuration beyond limits: {sorted(exceeded)}")
        self.exceeded = dict(exceeded)
        self.limits = dict(limits)


class GpuSetupTooSmall(DomainError):
    """The base model does not fit the chosen GPUs at the job's batch size and rank (catalog/memory_fit):
    what it needs per GPU, and the smallest setup that fits (None when none does)."""

    def __init__(
        self,
        *,
        model_name: str,
        gpu_type: str,
        gpu_count: int,
        gpu_memory_gib: int,
        needed_bytes: int,
        batch_size: int,
        rank: int,
        smallest: tuple[str, int] | None,
    ) -> None:
        super().__init__(f"{model_name} does not fit {gpu_count} x {gpu_type}")
        self.model_name = model_name
        self.gpu_type = gpu_type
        self.gpu_count = gpu_count
        self.gpu_memory_gib = gpu_memory_gib
        self.needed_bytes = needed_bytes
        self.batch_size = batch_size
        self.rank = rank
        self.smallest = smallest


class EstimateOutOfDate(DomainError):
    """The price the client confirmed is not today's: `current` is the fresh estimate to show."""

    def __init__(self, *, submitted: Decimal, current_cost: Decimal, current: Mapping[str, Any]) -> None:
        super().__init__("estimate out of date")
        self.submitted = submitted
        self.current_cost = current_cost
        self.current = current  # the fresh estimate as the API answers it (JSON)


class IdempotencyKeyInFlight(DomainError):
    """Another request with the same key is still being processed."""


class IdempotencyKeyReused(DomainError):
    """The key was used before with a different request body."""


class JobNotFound(DomainError):
    """No such job, or another user's."""


class JobAlreadyFinished(DomainError):
    """A completed or failed job cannot be cancelled (a cancelled one answers as it is)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"job already {status}")
        self.status = status


class InvalidInput(DomainError):
    """Input the request's own validation cannot judge is wrong (a list's cursor with what came with
    it, a download's step without its artifact, a max_cost below the estimate). `field` names the query
    parameter or body field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class MonthlyLimitReached(DomainError):
    """A create whose job would take the month's charged and committed spend past the account's limit."""

    def __init__(self, *, limit: Decimal, charged: Decimal, committed: Decimal, job: Decimal) -> None:
        super().__init__("monthly spending limit reached")
        self.limit = limit
        self.charged = charged
        self.committed = committed
        self.job = job


class ArtifactNotAvailable(DomainError):
    """The caller's job has no such file (yet): no adapter before it completed, no checkpoint at that
    step."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WebhookNotFound(DomainError):
    """No such webhook endpoint, or another user's."""


class WebhookUrlRefused(DomainError):
    """The URL may not receive webhooks (not https, or not a public address): `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookLimitReached(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"webhook endpoint limit reached: {limit}")
        self.limit = limit


class DatabaseUnavailable(DomainError):
    """Refused, lost, timed out, past the request's deadline, or no credentials: transient."""


class ConnectionLost(DatabaseUnavailable):
    """The connection failed inside a transaction. Without `commit_sent` nothing was committed and the
    transaction may run again; with it, the outcome is unknown until looked up."""

    def __init__(self, *, commit_sent: bool) -> None:
        super().__init__(f"database connection lost (commit sent: {commit_sent})")
        self.commit_sent = commit_sent


class CreationOutcomeUnknown(DatabaseUnavailable):
    """A job's COMMIT was sent, its answer lost, and the lookup failed too."""
