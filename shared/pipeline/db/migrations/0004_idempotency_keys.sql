-- Idempotent job creation: the response to a successful POST /jobs, per caller and Idempotency-Key,
-- written in the same transaction as the job. Kept 24 hours; an expired key may be used again.
create table idempotency_keys (
    user_id       uuid not null,
    key           text not null check (length(key) between 1 and 255),
    request_hash  text not null,
    job_id        uuid not null references lora_training_jobs (id),
    response_status integer not null,
    response_body text not null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null default now() + interval '24 hours',
    primary key (user_id, key)
);

grant select, insert, update, delete on idempotency_keys to pipeline_app;
alter table idempotency_keys enable row level security;
create policy tenant_isolation on idempotency_keys
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
