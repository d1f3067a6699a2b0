-- POST /jobs/{job_id}/cancel, as the API's role: a job not yet running ends at once (its status, its
-- end), a running one is asked to stop (cancellation_requested_at); each writes its events.
grant update (status, current_stage, completed_at, estimated_finish_at, cancellation_requested_at)
    on lora_training_jobs to pipeline_app;
grant insert on job_events to pipeline_app;
grant usage on sequence job_events_id_seq to pipeline_app;
