"""A user's budgets as the API answers them: the account's monthly spending limit (GET and PUT
/account/limits), the month's spend against it (GET /account/usage, and beside every estimate)."""

from typing import Final
from uuid import UUID

from pydantic import Field

from pipeline.jobs.states import JobStatus
from pipeline.models import CURSOR_MAX_LENGTH, Model, Money, Number, RequestModel, UtcDatetime

MAX_MONTHLY_LIMIT: Final = 10_000_000  # a numeric(12, 2) holds far more; beyond this is a typo
MAX_USAGE_JOBS_PER_PAGE: Final = 200


class AccountLimits(Model):
    monthly_spend_limit: Money | None = Field(
        description="What the account may spend in a calendar month (UTC); null: no limit"
    )
    updated_at: UtcDatetime | None = Field(description="When the limit was last set; null: never")


class UpdateLimitsRequest(RequestModel):
    monthly_spend_limit: Number | None = Field(
        ge=0,
        le=MAX_MONTHLY_LIMIT,
        description="Dollars a calendar month (UTC), at most two decimals; null removes the limit",
        json_schema_extra={"multipleOf": 0.01},
    )


class UsageQuery(RequestModel):
    month: str | None = Field(
        default=None,
        pattern=r"^2[0-9]{3}-(0[1-9]|1[0-2])$",
        description="YYYY-MM (UTC), from 2000-01 to 2999-12; absent: this month",
    )
    limit: int = Field(default=50, ge=1, le=MAX_USAGE_JOBS_PER_PAGE)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_MAX_LENGTH, description="next_cursor of an earlier page"
    )


class JobSpend(Model):
    job_id: UUID
    status: JobStatus
    created_at: UtcDatetime
    charged: Money = Field(description="What the job has cost so far (its final charge once it ended)")
    committed: Money = Field(
        description="While it runs: what it may still cost, up to its max_cost or else its estimate"
    )
    estimated_total_cost: Money
    max_cost: Money | None


class MonthlySpend(Model):
    """A month's spend against the account's limit."""

    month: str = Field(description="YYYY-MM (UTC): jobs count in the month they were created")
    monthly_spend_limit: Money | None = Field(description="null: no limit")
    charged: Money = Field(description="What the month's jobs have cost so far")
    committed: Money = Field(
        description="What the month's running jobs may still cost, up to their max_cost or estimate"
    )
    remaining: Money | None = Field(description="The limit less charged and committed (at least 0)")


class MonthlyUsage(MonthlySpend):
    jobs: list[JobSpend] = Field(description="The month's jobs, newest first, a page at a time")
    next_cursor: str | None = Field(description="?cursor= it for older jobs; null on the last page")
