"""Domain errors become HTTP answers in one place: each its status, body and headers."""

from decimal import Decimal

import pytest

from pipeline import errors as domain_errors
from pipeline.http import errors as http_errors
from pipeline.http.errors import for_domain_error
from pipeline.pricing import cost_model
from pipeline.pricing.models import CostBreakdown, Estimate, TrainingDetails

FRESH = Estimate(
    base_model="mistral-7b-v0.3",
    estimated_cost=Decimal("5.95"),
    cost_breakdown=CostBreakdown(compute=Decimal("5.94"), storage=Decimal("0.01")),
    estimated_duration_hours=Decimal("1.5"),
    hourly_rate=Decimal("3.96"),
    training_details=TrainingDetails(
        total_steps=100, steps_per_epoch=50, estimated_throughput_tokens_per_sec=1000, dataset_name="d"
    ),
    pricing_version="2025-01",
)
STALE = domain_errors.EstimateOutOfDate(
    submitted=Decimal("5.94"), current_cost=FRESH.estimated_cost, current=FRESH.model_dump(mode="json")
)
TOO_LARGE = domain_errors.ConfigurationTooLarge({"total_steps": 10**8}, cost_model.LIMITS._asdict())


@pytest.mark.parametrize(
    ("error", "status", "title", "headers"),
    [
        (domain_errors.DatasetNotFound(), 404, "Dataset not found or access denied", {}),
        (
            domain_errors.DatasetNotReady(status="processing", training_ready=False),
            400,
            "Dataset not ready for training",
            {},
        ),
        (
            domain_errors.ConfigurationTooLarge({"total_steps": 10**8}, cost_model.LIMITS._asdict()),
            422,
            "Configuration too large",
            {},
        ),
        (
            domain_errors.EstimateOutOfDate(
                submitted=Decimal("5.94"),
                current_cost=FRESH.estimated_cost,
                current=FRESH.model_dump(mode="json"),
            ),
            409,
            "Estimate out of date",
            {},
        ),
        (domain_errors.IdempotencyKeyInFlight(), 409, "Request in progress", {"Retry-After": "1"}),
        (domain_errors.IdempotencyKeyReused(), 422, "Idempotency-Key reused", {}),
        (domain_errors.JobNotFound(), 404, "Training job not found", {}),
        (domain_errors.JobAlreadyFinished("completed"), 409, "Job already finished", {}),
        (domain_errors.ArtifactNotAvailable("No checkpoint"), 404, "Artifact not available", {}),
        (domain_errors.InvalidInput("cursor", "Invalid cursor"), 400, "Validation error", {}),
        (domain_errors.DatabaseUnavailable(), 503, "Service unavailable", {"Retry-After": "5"}),
        (domain_errors.ConnectionLost(commit_sent=False), 503, "Service unavailable", {"Retry-After": "5"}),
        (domain_errors.CreationOutcomeUnknown(), 503, "Service unavailable", {"Retry-After": "5"}),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_domain_error_has_its_answer(
    error: domain_errors.DomainError, status: int, title: str, headers: dict[str, str]
) -> None:
    answer = for_domain_error(error)
    assert (answer.status_code, answer.error, answer.headers) == (status, title, headers)


def test_every_domain_error_class_is_answered() -> None:
    def subclasses(kind: type[domain_errors.DomainError]) -> set[type[domain_errors.DomainError]]:
        found: set[type[domain_errors.DomainError]] = set()
        for direct in kind.__subclasses__():
            found |= {direct} | subclasses(direct)
        return found

    classes = {
        kind for kind in subclasses(domain_errors.DomainError) if kind.__module__ == domain_errors.__name__
    }
    answered = {kind for kind, _ in http_errors._ANSWERS}
    # A subclass is answered through its nearest answered base (ConnectionLost via DatabaseUnavailable).
    unanswered = {kind for kind in classes if not any(issubclass(kind, base) for base in answered)}
    assert unanswered == set()


def test_the_details_name_the_field_and_carry_the_fresh_estimate() -> None:
    assert for_domain_error(domain_errors.InvalidInput("limit", "send that limit")).body() == {
        "error": "Validation error",
        "details": {"limit": ["send that limit"]},
    }
    stale = for_domain_error(
        domain_errors.EstimateOutOfDate(
            submitted=Decimal("5.94"),
            current_cost=FRESH.estimated_cost,
            current=FRESH.model_dump(mode="json"),
        )
    )
    assert stale.details["submitted_estimated_cost"] == 5.94
    assert stale.details["current_estimated_cost"] == 5.95
    assert stale.data["estimated_cost"] == 5.95
    not_ready = for_domain_error(domain_errors.DatasetNotReady(status="processing", training_ready=False))
    assert not_ready.details == (
        "Dataset must have status='ready' and training_ready=true. "
        "Current: status='processing', training_ready=false"
    )


def test_a_domain_error_without_an_answer_is_a_programming_error() -> None:
    class Unanswered(domain_errors.DomainError):
        pass

    with pytest.raises(TypeError, match="no HTTP answer for Unanswered"):
        for_domain_error(Unanswered())
