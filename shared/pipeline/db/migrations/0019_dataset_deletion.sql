-- A dataset can be deleted once no job that is not final uses it: its row and file go, and its jobs
-- keep the name and figures they were created with (copied onto the job), their dataset_id set null.
alter table lora_training_jobs
    add column dataset_name                 text,
    add column dataset_format               text,
    add column dataset_total_training_pairs integer;

-- Every tenant's jobs: the owner, for the length of this migration, outside row level security.
alter table lora_training_jobs no force row level security;
update lora_training_jobs j
set dataset_name = d.name, dataset_format = d.format, dataset_total_training_pairs = d.total_training_pairs
from lora_datasets d
where d.id = j.dataset_id and d.user_id = j.user_id;
alter table lora_training_jobs force row level security;

do $$
declare
    fk text;
begin
    select conname into fk from pg_constraint
    where conrelid = 'lora_training_jobs'::regclass and contype = 'f'
      and confrelid = 'lora_datasets'::regclass;
    execute format('alter table lora_training_jobs drop constraint %I', fk);
end
$$;
alter table lora_training_jobs alter column dataset_id drop not null;
-- Only dataset_id is set null: user_id stays the job's.
alter table lora_training_jobs add constraint lora_training_jobs_dataset_fkey
    foreign key (dataset_id, user_id) references lora_datasets (id, user_id) on delete set null (dataset_id);
-- (lora_training_jobs_dataset_idx, migration 0001, serves the delete's set null and its check of jobs.)

-- The API deletes a user's dataset, after locking its row (FOR UPDATE needs an UPDATE privilege) so a
-- job created at the same moment either comes first (and the delete is refused) or finds it gone.
grant delete, update (name) on lora_datasets to pipeline_app;
