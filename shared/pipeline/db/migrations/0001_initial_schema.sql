-- Datasets (filled by the dataset section; this API reads them), training jobs, notifications, and the
-- outbox that holds each queue message until it is known to be sent.

create table lora_datasets (
    id                   uuid primary key default gen_random_uuid(),
    user_id              uuid not null,
    name                 text not null,
    format               text,
    status               text not null,
    training_ready       boolean not null default false,
    total_training_pairs integer check (total_training_pairs >= 0),
    total_tokens         bigint check (total_tokens >= 0),
    created_at           timestamptz not null default now(),
    -- Target of the jobs' (dataset_id, user_id) foreign key: a job can only point at its owner's dataset.
    unique (id, user_id)
);
create index lora_datasets_user_created_idx on lora_datasets (user_id, created_at desc);

create table lora_training_jobs (
    id                   uuid primary key,
    user_id              uuid not null,
    dataset_id           uuid not null,
    preset_id            text not null check (preset_id in ('fast', 'balanced', 'quality', 'custom')),
    status               text not null
        check (status in ('queued', 'initializing', 'running', 'completed', 'failed', 'cancelled')),
    current_stage        text,
    progress             numeric(5, 2) not null default 0 check (progress between 0 and 100),
    current_epoch        integer not null default 0 check (current_epoch >= 0),
    total_epochs         integer not null check (total_epochs > 0),
    current_step         integer not null default 0 check (current_step >= 0),
    total_steps          integer not null check (total_steps > 0),
    gpu_config           jsonb not null,
    hyperparameters      jsonb not null,
    estimated_total_cost numeric(12, 2) not null check (estimated_total_cost >= 0),
    current_cost         numeric(12, 2) not null default 0 check (current_cost >= 0),
    current_metrics      jsonb not null default '{}',
    pricing_version      text not null,
    error_message        text,
    queued_at            timestamptz,
    started_at           timestamptz,
    completed_at         timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    foreign key (dataset_id, user_id) references lora_datasets (id, user_id)
);
-- The list query: a user's jobs newest first (ties by id), optionally by status.
create index lora_training_jobs_user_created_idx
    on lora_training_jobs (user_id, created_at desc, id desc);
create index lora_training_jobs_user_status_created_idx
    on lora_training_jobs (user_id, status, created_at desc, id desc);
create index lora_training_jobs_dataset_idx on lora_training_jobs (dataset_id, user_id);

create function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger lora_training_jobs_set_updated_at
    before update on lora_training_jobs
    for each row execute function set_updated_at();

create table lora_notifications (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null,
    type       text not null,
    title      text not null,
    message    text not null,
    priority   text not null check (priority in ('low', 'medium', 'high')),
    action_url text,
    metadata   jsonb not null default '{}',
    read       boolean not null default false,
    created_at timestamptz not null default now()
);
create index lora_notifications_user_created_idx on lora_notifications (user_id, created_at desc);

-- One row per queue message, written in the same transaction as the job it announces. `body` is the
-- exact text sent to SQS, so a relay re-sends byte-for-byte what the API built.
create table job_queue_outbox (
    id              bigint generated always as identity primary key,
    job_id          uuid not null references lora_training_jobs (id),
    message_type    text not null,
    message_version integer not null,
    body            text not null,
    created_at      timestamptz not null default now(),
    sent_at         timestamptz,
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text
);
create index job_queue_outbox_pending_idx on job_queue_outbox (next_attempt_at, id) where sent_at is null;
create index job_queue_outbox_job_idx on job_queue_outbox (job_id);
