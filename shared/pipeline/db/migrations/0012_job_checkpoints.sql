-- A job's checkpoints, one per saved step, as its worker reported them (training_job.checkpoint_saved):
-- where each lies in the artifacts bucket (under the job's own prefix, checked before it is written)
-- and the losses at that step. Listed by GET /jobs/{job_id}/checkpoints; each can be downloaded through
-- a short-lived presigned URL, as the final adapter (lora_training_jobs.artifact_key) can.
create table job_checkpoints (
    job_id     uuid not null references lora_training_jobs (id),
    user_id    uuid not null,
    step       integer not null check (step >= 0),
    epoch      integer not null check (epoch >= 0),
    object_key text not null check (length(object_key) between 1 and 1024),
    metrics    jsonb not null default '{}',
    saved_at   timestamptz not null default now(),
    primary key (job_id, step)
);

alter table job_checkpoints enable row level security;
alter table job_checkpoints force row level security;
create policy tenant_isolation on job_checkpoints
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());

grant select on job_checkpoints to pipeline_app;
grant select, insert on job_checkpoints to pipeline_worker;
