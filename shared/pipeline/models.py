"""What every model shares: the base classes and the field types (pydantic v2).

Each domain package keeps its own models (jobs/models.py, catalog/configuration.py, ...), and each
function imports only the ones it answers with: defining a model class costs cold-start time even with
its validator built lazily (docs/performance.md has the figures).

Numbers are strict: JSON strings and booleans are rejected where a number is expected. Integer fields
accept integral numbers (4 or 4.0) and reject 4.5. Unknown keys are ignored (the page sends preset
names and descriptions inside `hyperparameters`) and are not stored.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

PresetId = Literal["fast", "balanced", "quality", "custom"]
# The longest cursor a list issues (db/cursor) is about 250 characters; a query accepts twice that.
CURSOR_MAX_LENGTH: Final = 512


def _integral_number(value: Any) -> Any:
    # JSON has one number type: 4.0 is the integer 4; 4.5, "4" and true are not integers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a JSON number (an integer)")
    if isinstance(value, float):
        if not value.is_integer():
            raise PydanticCustomError(
                "int_from_float", "Input should be a whole number, got {value}", {"value": value}
            )
        return int(value)
    return value


def _money_json(value: Decimal) -> int | float:
    # JSON numbers on the wire, written as JavaScript writes them (7, 25.5, 1234.56). A numeric(12,2)
    # value has at most 12 significant digits, so the shortest repr of its double is exactly its text.
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _storable_text(value: str) -> str:
    # PostgreSQL's text holds no NUL character, and UTF-8 cannot encode a lone surrogate ("\ud800" is
    # valid JSON): either would be refused by the database after passing here, so refuse them here.
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "Input should not contain the NUL character (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "text_surrogate", "Input should not contain an unpaired surrogate (\\ud800-\\udfff)"
        ) from None
    return value


# Text that is stored: what the database can hold, refused with the field's name otherwise.
StorableText = Annotated[str, AfterValidator(_storable_text)]
IntegralNumber = Annotated[int, Strict(), BeforeValidator(_integral_number)]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Money = Annotated[
    Decimal,
    PlainSerializer(_money_json, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number"}, mode="serialization"),
]
# A non-money Decimal (GPU-seconds) on the wire: a JSON number, as Money.
DecimalNumber = Annotated[
    Decimal,
    PlainSerializer(_money_json, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number"}, mode="serialization"),
]
UtcDatetime = Annotated[
    datetime,
    PlainSerializer(_utc_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class Model(BaseModel):
    # Build validators and serializers on first use: each function uses a few models, and building all
    # of them at import would add to every cold start.
    model_config = ConfigDict(defer_build=True)


class RequestModel(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
