"""The sliders the configuration page offers: the spec's ranges and steps, with their labels and hints.

They are narrower than what the API validates (catalog/configuration.py): the page steers people to
sensible values, while a client that knows better may still send anything the validators accept. A test
checks every slider stays inside its validation range and that every preset sits on a slider stop.
"""

from typing import Final

from pipeline.catalog.models import CatalogControl

CONTROLS: Final[tuple[CatalogControl, ...]] = (
    CatalogControl(
        field="gpu_config.count",
        label="Number of GPUs",
        minimum=1,
        maximum=8,
        step=1,
        decimals=0,
        hint="More GPUs = faster training via data parallelism.",
    ),
    CatalogControl(
        field="hyperparameters.learning_rate",
        label="Learning Rate",
        minimum=0.00001,
        maximum=0.0002,
        step=0.000001,
        decimals=6,
        hint="Lower = more stable training, Higher = faster convergence (but risky)",
    ),
    CatalogControl(
        field="hyperparameters.batch_size",
        label="Batch Size",
        minimum=1,
        maximum=16,
        step=1,
        decimals=0,
        hint="Larger batch = faster training but requires more memory",
    ),
    CatalogControl(
        field="hyperparameters.epochs",
        label="Training Epochs",
        minimum=1,
        maximum=10,
        step=1,
        decimals=0,
        hint="More epochs = better learning, but with diminishing returns",
    ),
    CatalogControl(
        field="hyperparameters.rank",
        label="LoRA Rank",
        minimum=4,
        maximum=64,
        step=4,
        decimals=0,
        hint="Higher rank = more expressive adapter, but larger model size",
    ),
)
