-- A running job whose worker stopped reporting (the host died, the network split) would stay running
-- forever. The watchdog (JobWatchdogFunction, every 5 minutes) fails a job silent for longer than
-- JOB_SILENCE_SECONDS, charged the GPU time its last report counted, and tells the workers to stop it.
alter table lora_training_jobs add column last_report_at timestamptz;
grant update (last_report_at) on lora_training_jobs to pipeline_worker;
create index lora_training_jobs_silent_idx on lora_training_jobs (coalesce(last_report_at, started_at))
    where status = 'running';

-- The watchdog looks across tenants, and only at running jobs, only in a transaction that says it is
-- the watchdog; everything else of the workers' role stays inside one tenant (a report naming the
-- wrong user still finds nothing). It then fails each job inside that job's own tenant transaction.
create policy watchdog_finds_running on lora_training_jobs for select to pipeline_worker
    using (status = 'running' and current_setting('pipeline.watchdog', true) = 'on');

-- The workers' role may now also write control messages (the watchdog's stop), never jobs-queue rows.
alter policy dispatcher_assigns on job_queue_outbox
    with check (destination in ('worker_tasks', 'worker_control'));
alter policy dispatcher_assigns on job_queue_outbox rename to workers_role_messages;
