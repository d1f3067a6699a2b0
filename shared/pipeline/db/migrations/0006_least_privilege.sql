-- Least privilege, one role per kind of caller:
--   pipeline_app     the HTTP functions: one tenant at a time (app.user_id), nothing else;
--   pipeline_worker  the outbox relay and the jobs-queue dispatcher: every job's outbox rows, and a
--                    job's own tables only under its tenant's setting, as the API;
--   the owner        migrations only.
-- Row level security is forced, so the owner too sees tenant rows only under a tenant's setting.
-- Not on job_counts: its one writer is the owner's SECURITY DEFINER trigger, which must keep every
-- tenant's counters whatever setting the writing transaction has; no role may write it directly, and
-- the API's reads of it stay filtered (row level security is enabled on it).
-- A migration that must touch every tenant's rows wraps itself in
-- `alter table ... no force row level security` ... `force row level security` (DDL is
-- transactional: nobody else ever sees the gap).

do $$
begin
    if not exists (select from pg_roles where rolname = 'pipeline_worker') then
        -- No password here: set one out of band (ALTER ROLE ... PASSWORD) or use IAM authentication.
        create role pipeline_worker login nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    end if;
    execute format('grant connect on database %I to pipeline_worker', current_database());
end
$$;
grant usage on schema public to pipeline_worker;

-- The API: what the HTTP functions run, no more. No API path changes a job after creating it, reads
-- a notification, or updates an idempotency key (an expired one is deleted, then written again).
revoke update on lora_training_jobs from pipeline_app;
revoke select on lora_notifications from pipeline_app;
revoke update on idempotency_keys from pipeline_app;
revoke select, update on job_queue_outbox from pipeline_app;
-- Marking its own job's message sent after the send (SELECT covers the columns the UPDATE reads).
grant select (id, job_id, sent_at, attempts) on job_queue_outbox to pipeline_app;
grant update (sent_at, attempts, last_error) on job_queue_outbox to pipeline_app;

-- The relay and the dispatcher.
grant select on job_queue_outbox to pipeline_worker;
grant update (sent_at, attempts, last_error, next_attempt_at) on job_queue_outbox to pipeline_worker;
grant select on lora_datasets to pipeline_worker;
grant select on lora_training_jobs to pipeline_worker;
grant update (status, current_stage, started_at) on lora_training_jobs to pipeline_worker;
grant insert on lora_notifications to pipeline_worker;

-- The outbox has no user_id: a row belongs to its job's tenant. For the API, the subquery runs under
-- the jobs table's own policy, so only the current tenant's jobs' rows exist. The relay publishes
-- every tenant's rows: that is its one job.
alter table job_queue_outbox enable row level security;
create policy tenant_isolation on job_queue_outbox to pipeline_app
    using (job_id in (select id from lora_training_jobs))
    with check (job_id in (select id from lora_training_jobs));
create policy relay on job_queue_outbox to pipeline_worker using (true) with check (true);

alter table lora_datasets force row level security;
alter table lora_training_jobs force row level security;
alter table lora_notifications force row level security;
alter table idempotency_keys force row level security;
alter table job_queue_outbox force row level security;
