"""A job's loss chart: the query and its series (GET /jobs/{job_id}/metrics)."""

from typing import Final

from pydantic import Field

from pipeline.models import Model, RequestModel

MAX_METRIC_POINTS: Final = 500


class JobMetricsQuery(RequestModel):
    max_points: int = Field(
        default=200,
        ge=10,
        le=MAX_METRIC_POINTS,
        description="At most this many points: a longer run is downsampled",
    )


class MetricPoint(Model):
    step: int = Field(description="The last step the point covers")
    epoch: int
    train_loss: float | None = Field(description="Mean over the steps the point covers")
    validation_loss: float | None = Field(description="Mean of the validation losses reported in its steps")


class JobMetrics(Model):
    points: list[MetricPoint] = Field(description="Step order, the whole run so far")
    reported_points: int = Field(description="How many points the worker reported so far")
    downsampled: bool = Field(description="True when points were merged to stay within max_points")
