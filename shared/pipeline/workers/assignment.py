"""The message that hands a claimed job to the GPU workers (training_job.assigned): pure, no I/O."""

from datetime import datetime
from typing import Any

from pipeline.artifacts import locations as artifacts
from pipeline.catalog.base_models import throughput_per_gpu
from pipeline.catalog.gpu_prices import prices_for, run_inputs_for
from pipeline.datasets import repository as datasets_repository
from pipeline.jobs.repository import ClaimedJob
from pipeline.pricing import cost_model
from pipeline.workers.messages import TrainingJobAssigned


def assignment_for(job: ClaimedJob, now: datetime, bucket: str, datasets_bucket: str) -> TrainingJobAssigned:
    """The job as a worker needs it, with the run its estimate expects. Steps and duration come from
    the cost model over the job's own configuration and its dataset's statistics, as the estimate
    did."""
    gpu, model = run_inputs_for(job.pricing_version, job.gpu_config["type"], job.base_model)
    tokens = datasets_repository.tokens_for(
        job.dataset_token_counts, job.base_model, job.dataset_total_tokens
    )
    prices = prices_for(job.pricing_version, job.gpu_config["type"])
    figures = cost_model.estimate_cost(
        price_per_gpu_hour=prices.price_per_gpu_hour,
        throughput_per_gpu=throughput_per_gpu(model, gpu.throughput_tokens_per_sec),
        gpu_count=int(job.gpu_config["count"]),
        batch_size=int(job.hyperparameters["batch_size"]),
        epochs=job.total_epochs,
        total_training_pairs=job.dataset_total_training_pairs,
        total_tokens=tokens,
        storage_cost=prices.storage_cost,
    )
    # The duration whose GPU time is charged the estimate the user was shown, to the cent, at the job's
    # own prices: a run that takes exactly this long is neither over nor under its estimate.
    seconds = cost_model.charged_duration_seconds(
        figures.duration_seconds,
        compute_cost=job.estimated_total_cost - prices.storage_cost,
        price_per_gpu_hour=prices.price_per_gpu_hour,
        gpu_count=int(job.gpu_config["count"]),
    )
    # Validated like any message we send: a stored configuration the contract refuses fails here.
    return TrainingJobAssigned.model_validate(
        {
            "job_id": job.id,
            "user_id": job.user_id,
            "base_model": {
                "id": model.id,
                "name": model.name,
                "source": model.source,
                "parameters": model.parameters,
                "context_length": model.context_length,
                "tokenizer": model.tokenizer,
            },
            "dataset": {
                "id": job.dataset_id,
                "name": job.dataset_name,
                "format": job.dataset_format,
                "total_training_pairs": job.dataset_total_training_pairs,
                "total_tokens": tokens,
                "file": _dataset_file(job, datasets_bucket),
            },
            "preset_id": job.preset_id,
            "gpu_config": job.gpu_config,
            "hyperparameters": job.hyperparameters,
            "total_epochs": job.total_epochs,
            # The job's own figure (stored at create), which the reports' progress is measured against.
            "total_steps": job.total_steps,
            "steps_per_epoch": figures.steps_per_epoch,
            "estimated_duration_seconds": seconds,
            "output": {"bucket": bucket, "prefix": artifacts.job_prefix(job.user_id, job.id)},
            "assigned_at": now,
        }
    )


def _dataset_file(job: ClaimedJob, datasets_bucket: str) -> dict[str, Any] | None:
    if job.dataset_source_key is None or job.dataset_sha256 is None:
        return None  # a dataset not uploaded as a file (made before uploads existed)
    return {
        "bucket": datasets_bucket,
        "key": job.dataset_source_key,
        "sha256": job.dataset_sha256,
        "size_bytes": job.dataset_size_bytes,
        "held_out": job.dataset_held_out or 0,
    }
