-- Budgets a user sets: a job's max_cost (it is stopped when its cost reaches it, and never charged
-- more), and a monthly spending limit for the account (a create that would take the month's charged
-- and committed past it is refused; a running job that would is stopped, and never charged past it).

alter table lora_training_jobs
    add column max_cost numeric(12, 2) check (max_cost > 0),
    -- Why a job was stopped before its end: by its user, or by one of their budgets.
    add column stop_reason text
        check (stop_reason in ('cancelled_by_user', 'budget_reached', 'monthly_limit_reached'));
-- A cancel (the API) says why; so does the reports consumer when a budget stops a job.
grant update (stop_reason) on lora_training_jobs to pipeline_app;
grant update (stop_reason, cancellation_requested_at) on lora_training_jobs to pipeline_worker;

-- The month's spend is summed over the user's jobs created in that month (lora_training_jobs_user_created_idx).
create table account_limits (
    user_id             uuid primary key,
    monthly_spend_limit numeric(12, 2) check (monthly_spend_limit >= 0),
    updated_at          timestamptz not null default now()
);
alter table account_limits enable row level security;
alter table account_limits force row level security;
create policy tenant_isolation on account_limits
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
-- The API sets and reads a user's limit; the reports consumer reads it to check a running job against
-- the month. (Both serialise a user's budget reads with an advisory lock: no table privilege needed.)
grant select, insert, update on account_limits to pipeline_app;
grant select on account_limits to pipeline_worker;
