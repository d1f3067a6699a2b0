"""The account's monthly spending limit: read it (GET /account/limits) and set it (PUT)."""

from decimal import Decimal
from uuid import UUID

from pipeline.budgets import repository as budgets_repository
from pipeline.budgets.models import AccountLimits, UpdateLimitsRequest
from pipeline.db.database import Database
from pipeline.errors import InvalidInput
from pipeline.runtime.observability import logger

_CENT = Decimal("0.01")


def get_limits(database: Database, user_id: UUID) -> AccountLimits:
    row = database.read(user_id, lambda conn: budgets_repository.get(conn, user_id).result)
    if row is None:
        return AccountLimits(monthly_spend_limit=None, updated_at=None)
    return AccountLimits.model_validate(row)


def put_limits(database: Database, user_id: UUID, request: UpdateLimitsRequest) -> AccountLimits:
    limit = (
        None
        if request.monthly_spend_limit is None
        else money(request.monthly_spend_limit, "monthly_spend_limit")
    )
    with database.tenant_transaction(user_id) as conn:
        # After the creates and reports under way: each of those read the month under the old limit.
        budgets_repository.lock_budget(conn, user_id)
        row = budgets_repository.put(conn, user_id, limit)
    logger.info("monthly spending limit set", monthly_spend_limit=str(limit))
    return AccountLimits.model_validate(row.result())


def money(value: float, field: str) -> Decimal:
    """A JSON number as dollars and cents; InvalidInput (naming `field`) for fractions of a cent."""
    exact = Decimal(repr(value))
    if exact != exact.quantize(_CENT):
        raise InvalidInput(field, "Send dollars and cents: at most two decimals")
    return exact.quantize(_CENT)
