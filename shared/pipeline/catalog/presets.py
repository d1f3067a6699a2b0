"""The training presets the page offers (the spec's Fast, Balanced and Quality)."""

from typing import Final

from pipeline.catalog.models import CatalogPreset

# The preset the page starts from; the catalog lists which GPUs fit each model at its batch size and rank.
DEFAULT_PRESET: Final = "balanced"

PRESETS: Final[tuple[CatalogPreset, ...]] = (
    CatalogPreset(
        id="fast",
        name="Fast",
        description="Quick training for testing and iteration",
        details="Optimized for speed, suitable for testing",
        learning_rate=0.0001,
        batch_size=8,
        epochs=1,
        rank=8,
        alpha=16,
        dropout=0.05,
    ),
    CatalogPreset(
        id="balanced",
        name="Balanced",
        description="Recommended balance of quality and cost",
        details="Best for most use cases",
        learning_rate=0.00005,
        batch_size=4,
        epochs=3,
        rank=16,
        alpha=32,
        dropout=0.1,
    ),
    CatalogPreset(
        id="quality",
        name="Quality",
        description="Maximum quality for production models",
        details="Slower and more expensive, but best results",
        learning_rate=0.00003,
        batch_size=2,
        epochs=5,
        rank=32,
        alpha=64,
        dropout=0.1,
    ),
)
