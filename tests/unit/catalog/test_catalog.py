"""GET /catalog: the page's data comes from what the cost model and the validators use."""

from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from functions.catalog import app as catalog_app
from pipeline.catalog.configuration import GpuConfig, JobHyperparameters
from pipeline.catalog.gpu_prices import GPU_TYPES, PRICING_VERSION
from tests.api_client import build_event, invoke, load_event


def _catalog() -> dict[str, Any]:
    response = invoke(catalog_app, load_event("catalog"))
    assert response.status == 200, response.raw_body
    data: dict[str, Any] = response.body["data"]
    return data


def test_catalog_lists_every_gpu_type_with_its_price_and_throughput() -> None:
    data = _catalog()

    assert data["pricing_version"] == PRICING_VERSION
    assert data["storage_cost"] == 0.5
    assert {
        g["id"]: (g["price_per_gpu_hour"], g["throughput_tokens_per_sec"]) for g in data["gpu_types"]
    } == {
        gpu.id: (float(gpu.price_per_gpu_hour), gpu.throughput_tokens_per_sec) for gpu in GPU_TYPES.values()
    }
    assert data["gpu_types"][2] == {
        "id": "H100",
        "label": "NVIDIA H100",
        "price_per_gpu_hour": 4.2,
        "throughput_tokens_per_sec": 2200,
        "description": "Fastest available",
        "memory_bytes": 80 * 2**30,
    }


def test_catalog_presets_are_the_specs() -> None:
    presets = {p["id"]: p for p in _catalog()["presets"]}

    assert list(presets) == ["fast", "balanced", "quality"]
    assert presets["balanced"] == {
        "id": "balanced",
        "name": "Balanced",
        "description": "Recommended balance of quality and cost",
        "details": "Best for most use cases",
        "learning_rate": 0.00005,
        "batch_size": 4,
        "epochs": 3,
        "rank": 16,
        "alpha": 32,
        "dropout": 0.1,
    }
    for preset in presets.values():  # every preset is a valid configuration
        JobHyperparameters.model_validate(preset)


def test_catalog_ranges_are_exactly_what_validation_accepts() -> None:
    ranges = _catalog()["ranges"]
    valid: dict[str, dict[str, Any]] = {
        "gpu_config": {"type": "H100", "count": 1},
        "hyperparameters": {"batch_size": 4, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
    }
    models: dict[str, type[BaseModel]] = {"gpu_config": GpuConfig, "hyperparameters": JobHyperparameters}

    def accepts(path: str, value: float) -> bool:
        group, field = path.split(".")
        try:
            models[group].model_validate(valid[group] | {field: value})
        except ValidationError:
            return False
        return True

    assert set(ranges) == {
        "gpu_config.count",
        "hyperparameters.batch_size",
        "hyperparameters.epochs",
        "hyperparameters.learning_rate",
        "hyperparameters.rank",
        "hyperparameters.alpha",
        "hyperparameters.dropout",
    }
    for path, bounds in ranges.items():
        step = 1 if bounds["integer"] else 1e-9
        if bounds["minimum"] is not None:
            assert accepts(path, bounds["minimum"]), path
            assert not accepts(path, bounds["minimum"] - step), path
        if bounds["maximum"] is not None:
            assert accepts(path, bounds["maximum"]), path
            assert not accepts(path, bounds["maximum"] + step), path
        if bounds["exclusive_minimum"] is not None:
            assert not accepts(path, bounds["exclusive_minimum"]), path
        if bounds["exclusive_maximum"] is not None:
            assert not accepts(path, bounds["exclusive_maximum"]), path
    assert ranges["gpu_config.count"] == {
        "integer": True,
        "minimum": 1,
        "maximum": 8,
        "exclusive_minimum": None,
        "exclusive_maximum": None,
    }


def test_catalog_sliders_are_the_specs_and_stay_inside_validation() -> None:
    data = _catalog()
    controls = {c["field"]: c for c in data["controls"]}

    assert {field: (c["minimum"], c["maximum"], c["step"]) for field, c in controls.items()} == {
        "gpu_config.count": (1, 8, 1),
        "hyperparameters.learning_rate": (0.00001, 0.0002, 0.000001),
        "hyperparameters.batch_size": (1, 16, 1),
        "hyperparameters.epochs": (1, 10, 1),
        "hyperparameters.rank": (4, 64, 4),
    }
    for field, control in controls.items():
        bounds = data["ranges"][field]
        assert bounds["minimum"] <= control["minimum"] < control["maximum"] <= bounds["maximum"], field
        stops = (control["maximum"] - control["minimum"]) / control["step"]
        assert abs(stops - round(stops)) < 1e-6, field  # the maximum is a stop
        assert control["label"]
        assert control["hint"]
    for preset in data["presets"]:  # each preset is a position its sliders can show
        for field, control in controls.items():
            group, name = field.split(".")
            if group != "hyperparameters":
                continue
            stops = (preset[name] - control["minimum"]) / control["step"]
            assert control["minimum"] <= preset[name] <= control["maximum"], (preset["id"], name)
            assert abs(stops - round(stops)) < 1e-6, (preset["id"], name)


def test_catalog_lists_every_job_status_for_the_jobs_filter() -> None:
    assert _catalog()["job_statuses"] == [
        "queued",
        "initializing",
        "running",
        "completed",
        "failed",
        "cancelled",
    ]


@pytest.mark.parametrize("sub", [None, "not-a-uuid"])
def test_catalog_needs_a_caller(sub: str | None) -> None:
    assert invoke(catalog_app, build_event("catalog", sub=sub)).status == 401


def test_catalog_is_the_same_for_every_caller() -> None:
    first = invoke(catalog_app, build_event("catalog", sub=uuid4()))
    second = invoke(catalog_app, build_event("catalog", sub=uuid4()))

    assert first.raw_body == second.raw_body
