-- A worker decides how often it reports: a job's loss chart keeps at most one point per stride of its
-- steps (total_steps / 10,000, at least 1), and its final report's point, so no job stores more than
-- about 10,000 points however often its worker reports. The job remembers the step of its last point.
alter table lora_training_jobs add column last_chart_step integer;
grant update (last_chart_step) on lora_training_jobs to pipeline_worker;
