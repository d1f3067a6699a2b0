-- A job handed to the workers that no worker ever starts (its assignment lost, no worker taking the
-- tasks queue) would stay initializing forever. The watchdog fails a job initializing for longer than
-- JOB_START_TIMEOUT_SECONDS, charging nothing, and tells the workers to stop it.
create index lora_training_jobs_unstarted_idx on lora_training_jobs (started_at)
    where status = 'initializing';

-- As 0011's policy for running jobs: across tenants, only in a transaction that says it is the watchdog.
create policy watchdog_finds_unstarted on lora_training_jobs for select to pipeline_worker
    using (status = 'initializing' and current_setting('pipeline.watchdog', true) = 'on');
