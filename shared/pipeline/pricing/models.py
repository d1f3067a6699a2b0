"""An estimate as the API returns it (POST /jobs/estimate, and a 409 Estimate out of date)."""

from pydantic import Field

from pipeline.budgets.models import MonthlySpend
from pipeline.models import Model, Money


class CostBreakdown(Model):
    compute: Money
    storage: Money


class TrainingDetails(Model):
    total_steps: int
    steps_per_epoch: int
    estimated_throughput_tokens_per_sec: int
    dataset_name: str


class Estimate(Model):
    base_model: str = Field(description="The base model the run trains (its throughput sets the duration)")
    estimated_cost: Money
    cost_breakdown: CostBreakdown
    estimated_duration_hours: Money
    hourly_rate: Money
    training_details: TrainingDetails
    pricing_version: str
    # Present only when the account has a monthly spending limit: without one an estimate is the
    # reference formula's answer exactly, field for field.
    within_limit: bool | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Whether the job (its max_cost, else this estimate) fits the month's spending limit"
        " beside what is charged and committed; absent when the account has no limit",
    )
    monthly_spend: MonthlySpend | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="This month's spend against the account's limit; absent when it has none",
    )
