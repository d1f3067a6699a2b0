-- Messages to the GPU workers go through the outbox like job messages: each row names where it goes.
--   jobs            the jobs queue (training_job.queued), read by the dispatcher;
--   worker_tasks    the workers' FIFO queue (training_job.assigned), one worker takes each job;
--   worker_control  the workers' control topic (training_job.cancel_requested), every worker host
--                   hears it and the one running the job stops it.
alter table job_queue_outbox
    add column destination text not null default 'jobs'
        check (destination in ('jobs', 'worker_tasks', 'worker_control'));

-- The dispatcher writes a claimed job's assignment in the claim's transaction; the API writes a
-- cancel's control message in the cancel's. Each then marks its own row sent after the send.
grant insert (job_id, message_type, message_version, body, destination) on job_queue_outbox
    to pipeline_worker;
grant usage on sequence job_queue_outbox_id_seq to pipeline_worker;
grant select (destination) on job_queue_outbox to pipeline_app;

-- Each writer writes only its own kind of row: the workers' role assigns jobs to workers, the API
-- queues jobs and tells workers to stop. (The relay's policy stays for what it reads and marks.)
drop policy relay on job_queue_outbox;
create policy relay_reads on job_queue_outbox for select to pipeline_worker using (true);
create policy relay_marks on job_queue_outbox for update to pipeline_worker using (true) with check (true);
create policy dispatcher_assigns on job_queue_outbox for insert to pipeline_worker
    with check (destination = 'worker_tasks');
create policy api_destinations on job_queue_outbox as restrictive for insert to pipeline_app
    with check (destination in ('jobs', 'worker_control'));
