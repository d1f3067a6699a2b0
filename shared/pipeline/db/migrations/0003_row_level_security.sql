-- Tenancy in depth. The functions connect as pipeline_app: it owns nothing, cannot bypass row level
-- security, and has only the privileges the functions use. Every row of the three tenant tables is
-- visible only inside a transaction that set app.user_id to the row's user_id; with the setting
-- absent or empty, no row is (fail closed). The owner role only migrates.

do $$
begin
    if not exists (select from pg_roles where rolname = 'pipeline_app') then
        -- No password here: set one out of band (ALTER ROLE ... PASSWORD) or use IAM authentication.
        create role pipeline_app login nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    end if;
    execute format('grant connect on database %I to pipeline_app', current_database());
end
$$;

grant usage on schema public to pipeline_app;
grant select on lora_datasets to pipeline_app;
grant select, insert, update on lora_training_jobs to pipeline_app;
grant select, insert on lora_notifications to pipeline_app;
grant select, insert, update on job_queue_outbox to pipeline_app;
grant usage on sequence job_queue_outbox_id_seq to pipeline_app;

create function app_current_user_id() returns uuid
language sql stable as $$
    select nullif(current_setting('app.user_id', true), '')::uuid
$$;

alter table lora_datasets enable row level security;
alter table lora_training_jobs enable row level security;
alter table lora_notifications enable row level security;

create policy tenant_isolation on lora_datasets
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
create policy tenant_isolation on lora_training_jobs
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
create policy tenant_isolation on lora_notifications
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
