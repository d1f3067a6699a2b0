"""The training presets the page offers (the spec's Fast, Balanced and Quality)."""

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Preset:
    id: str
    name: str
    description: str
    details: str
    learning_rate: float
    batch_size: int
    epochs: int
    rank: int
    alpha: float
    dropout: float


PRESETS: Final[tuple[Preset, ...]] = (
    Preset(
        "fast",
        "Fast",
        "Quick training for testing and iteration",
        "Optimized for speed, suitable for testing",
        0.0001,
        8,
        1,
        8,
        16,
        0.05,
    ),
    Preset(
        "balanced",
        "Balanced",
        "Recommended balance of quality and cost",
        "Best for most use cases",
        0.00005,
        4,
        3,
        16,
        32,
        0.1,
    ),
    Preset(
        "quality",
        "Quality",
        "Maximum quality for production models",
        "Slower and more expensive, but best results",
        0.00003,
        2,
        5,
        32,
        64,
        0.1,
    ),
)
