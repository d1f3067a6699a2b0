"""Cost estimates for a caller's dataset: catalog + dataset statistics through the cost model."""

from uuid import UUID

from pipeline.catalog.configuration import EstimateHyperparameters, EstimateRequest, GpuConfig
from pipeline.catalog.gpu_prices import GPU_TYPES, PRICING_VERSION, STORAGE_COST
from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.repository import Dataset
from pipeline.db.database import Database
from pipeline.errors import ConfigurationTooLarge, DatasetNotFound
from pipeline.pricing import cost_model
from pipeline.pricing.models import CostBreakdown, Estimate, TrainingDetails


def figures_for_dataset(
    dataset: Dataset, gpu_config: GpuConfig, hyperparameters: EstimateHyperparameters
) -> cost_model.CostEstimate:
    """The run's figures; ConfigurationTooLarge beyond the limits (cost_model.LIMITS)."""
    gpu = GPU_TYPES[gpu_config.type]
    figures = cost_model.estimate_cost(
        price_per_gpu_hour=gpu.price_per_gpu_hour,
        throughput_per_gpu=gpu.throughput_tokens_per_sec,
        gpu_count=gpu_config.count,
        batch_size=hyperparameters.batch_size,
        epochs=hyperparameters.epochs,
        total_training_pairs=dataset.total_training_pairs,
        total_tokens=dataset.total_tokens,
        storage_cost=STORAGE_COST,
    )
    exceeded = cost_model.exceeded_limits(figures)
    if exceeded:
        raise ConfigurationTooLarge(exceeded, cost_model.LIMITS._asdict())
    return figures


def estimate_for_dataset(
    dataset: Dataset, gpu_config: GpuConfig, hyperparameters: EstimateHyperparameters
) -> Estimate:
    return estimate_from_figures(figures_for_dataset(dataset, gpu_config, hyperparameters), dataset.name)


def estimate_from_figures(figures: cost_model.CostEstimate, dataset_name: str) -> Estimate:
    return Estimate(
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


def estimate_for_user(database: Database, user_id: UUID, request: EstimateRequest) -> Estimate:
    dataset = database.read(  # one round trip: read after the pipeline's sync
        user_id, lambda conn: datasets_repository.find_for_user(conn, request.dataset_id, user_id).result
    )
    if dataset is None:
        raise DatasetNotFound()
    return estimate_for_dataset(dataset, request.gpu_config, request.hyperparameters)
