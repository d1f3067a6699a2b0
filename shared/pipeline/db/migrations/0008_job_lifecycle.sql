-- A job's life after create: what the workers report (GPU time, steps, the per-job sequence that makes
-- reports idempotent), cancellation, the failure's code, the adapter's location, and an append-only
-- feed of what happened, written in the same transaction as each change.

alter table lora_training_jobs
    add column gpu_seconds numeric(14, 3) not null default 0 check (gpu_seconds >= 0),
    add column last_report_sequence integer not null default 0 check (last_report_sequence >= 0),
    add column cancellation_requested_at timestamptz,
    add column estimated_finish_at timestamptz,
    add column error_code text,
    add column artifact_key text;

create table job_events (
    id         bigint generated always as identity primary key,
    job_id     uuid not null references lora_training_jobs (id),
    user_id    uuid not null,
    type       text not null check (type in (
        'status_changed', 'progress', 'checkpoint', 'cost', 'error', 'cancellation_requested'
    )),
    data       jsonb not null default '{}',
    created_at timestamptz not null default now()
);
-- The feed reads one job's events in id order, from a cursor.
create index job_events_job_id_idx on job_events (job_id, id);

-- The loss chart's points: one per reported step (a repeated report of a step changes nothing).
create table job_metric_points (
    job_id          uuid not null references lora_training_jobs (id),
    user_id         uuid not null,
    step            integer not null check (step >= 0),
    epoch           integer not null check (epoch >= 0),
    train_loss      double precision,
    validation_loss double precision,
    recorded_at     timestamptz not null default now(),
    primary key (job_id, step)
);

alter table job_events enable row level security;
alter table job_events force row level security;
create policy tenant_isolation on job_events
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
alter table job_metric_points enable row level security;
alter table job_metric_points force row level security;
create policy tenant_isolation on job_metric_points
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());

-- The API reads the feed and the chart (cancelling gets its own grants with the endpoint).
grant select on job_events to pipeline_app;
grant select on job_metric_points to pipeline_app;

-- The report consumer applies the workers' reports.
grant select, insert on job_events to pipeline_worker;
grant usage on sequence job_events_id_seq to pipeline_worker;
grant select, insert on job_metric_points to pipeline_worker;
grant update (
    status, current_stage, started_at, completed_at, progress, current_epoch, current_step, current_cost,
    current_metrics, error_message, error_code, gpu_seconds, last_report_sequence, estimated_finish_at,
    artifact_key
) on lora_training_jobs to pipeline_worker;
