"""Cost estimates for a caller's dataset: catalog + dataset statistics through the cost model."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from pipeline.budgets import limits as budget_limits
from pipeline.budgets import rules as budget_rules
from pipeline.budgets import usage as budgets_usage
from pipeline.budgets.models import MonthlySpend
from pipeline.catalog import memory_fit
from pipeline.catalog.base_models import BASE_MODELS, BaseModelSpec, throughput_per_gpu
from pipeline.catalog.configuration import MAX_GPU_COUNT, EstimateHyperparameters, EstimateRequest, GpuConfig
from pipeline.catalog.gpu_prices import GPU_TYPES, PRICING_VERSION, STORAGE_COST
from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.repository import Dataset
from pipeline.db.database import Connection, Database
from pipeline.errors import ConfigurationTooLarge, DatasetNotFound, GpuSetupTooSmall, InvalidInput
from pipeline.pricing import cost_model
from pipeline.pricing.models import CostBreakdown, Estimate, TrainingDetails


def figures_for_dataset(
    dataset: Dataset, base_model: str, gpu_config: GpuConfig, hyperparameters: EstimateHyperparameters
) -> cost_model.CostEstimate:
    """The run's figures; GpuSetupTooSmall when the model does not fit the GPUs at this batch and rank,
    ConfigurationTooLarge beyond the limits (cost_model.LIMITS)."""
    gpu = GPU_TYPES[gpu_config.type]
    model = BASE_MODELS[base_model]
    require_fit(model, gpu_config, batch_size=hyperparameters.batch_size, rank=hyperparameters.rank)
    figures = cost_model.estimate_cost(
        price_per_gpu_hour=gpu.price_per_gpu_hour,
        throughput_per_gpu=throughput_per_gpu(model, gpu.throughput_tokens_per_sec),
        gpu_count=gpu_config.count,
        batch_size=hyperparameters.batch_size,
        epochs=hyperparameters.epochs,
        total_training_pairs=dataset.total_training_pairs,
        total_tokens=dataset.tokens_for(base_model),
        storage_cost=STORAGE_COST,
    )
    exceeded = cost_model.exceeded_limits(figures)
    if exceeded:
        raise ConfigurationTooLarge(exceeded, cost_model.LIMITS._asdict())
    return figures


def require_fit(model: BaseModelSpec, gpu_config: GpuConfig, *, batch_size: int, rank: int) -> None:
    """GpuSetupTooSmall, naming the smallest setup that fits, when the model does not fit the GPUs."""
    terms = memory_fit.memory_terms(model)
    gpu = GPU_TYPES[gpu_config.type]
    needed = memory_fit.bytes_per_gpu(terms, gpu_count=gpu_config.count, batch_size=batch_size, rank=rank)
    if needed <= gpu.memory_gib * memory_fit.GIB:
        return
    smallest = memory_fit.smallest_fitting_setup(
        terms,
        [(g.id, g.memory_gib, g.price_per_gpu_hour) for g in GPU_TYPES.values()],
        max_count=MAX_GPU_COUNT,
        batch_size=batch_size,
        rank=rank,
    )
    raise GpuSetupTooSmall(
        model_name=model.name,
        gpu_type=gpu.id,
        gpu_count=gpu_config.count,
        gpu_memory_gib=gpu.memory_gib,
        needed_bytes=needed,
        batch_size=batch_size,
        rank=rank,
        smallest=(smallest.gpu_type, smallest.gpu_count) if smallest else None,
    )


def estimate_for_dataset(
    dataset: Dataset, base_model: str, gpu_config: GpuConfig, hyperparameters: EstimateHyperparameters
) -> Estimate:
    figures = figures_for_dataset(dataset, base_model, gpu_config, hyperparameters)
    return estimate_from_figures(figures, dataset.name, base_model)


def estimate_from_figures(figures: cost_model.CostEstimate, dataset_name: str, base_model: str) -> Estimate:
    return Estimate(
        base_model=base_model,
        estimated_cost=figures.estimated_cost,
        cost_breakdown=CostBreakdown(compute=figures.compute_cost, storage=figures.storage_cost),
        estimated_duration_hours=figures.estimated_duration_hours,
        hourly_rate=figures.hourly_rate,
        training_details=TrainingDetails(
            total_steps=figures.total_steps,
            steps_per_epoch=figures.steps_per_epoch,
            estimated_throughput_tokens_per_sec=figures.throughput_tokens_per_sec,
            dataset_name=dataset_name,
        ),
        pricing_version=PRICING_VERSION,
    )


def estimate_for_user(
    database: Database, user_id: UUID, request: EstimateRequest, now: datetime | None = None
) -> Estimate:
    """The estimate, and this month's spend against the account's limit (whether the job would fit):
    one round trip, both read from one snapshot."""

    def queue(conn: Connection) -> Callable[[], tuple[Dataset | None, MonthlySpend | None]]:
        dataset = datasets_repository.find_for_user(conn, request.dataset_id, user_id)
        spend = budgets_usage.spend_for_estimate(conn, user_id, now or datetime.now(UTC))
        return lambda: (dataset.result(), spend())

    dataset, spend = database.read(user_id, queue, one_snapshot=True)
    if dataset is None:
        raise DatasetNotFound()
    estimate = estimate_for_dataset(dataset, request.base_model, request.gpu_config, request.hyperparameters)
    max_cost = checked_max_cost(request.max_cost, estimate.estimated_cost)
    if spend is None or spend.monthly_spend_limit is None:
        return estimate
    fits = budget_rules.fits(
        limit=spend.monthly_spend_limit,
        charged=spend.charged,
        committed=spend.committed,
        job=budget_rules.reservation(estimate.estimated_cost, max_cost),
    )
    return estimate.model_copy(update={"within_limit": fits, "monthly_spend": spend})


def checked_max_cost(max_cost: float | None, estimated_cost: Decimal) -> Decimal | None:
    """A request's max_cost in dollars and cents, at least the estimate; InvalidInput otherwise."""
    if max_cost is None:
        return None
    exact = budget_limits.money(max_cost, "max_cost")
    if exact < estimated_cost:
        raise InvalidInput(
            "max_cost",
            f"At least the estimate, {estimated_cost:.2f}: the job is stopped when its cost reaches max_cost",
        )
    return exact
