"""An estimate as the API returns it (POST /jobs/estimate, and a 409 Estimate out of date)."""

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
    estimated_cost: Money
    cost_breakdown: CostBreakdown
    estimated_duration_hours: Money
    hourly_rate: Money
    training_details: TrainingDetails
    pricing_version: str
