-- Exact job totals without counting rows per request: one counter per user and status, kept by
-- triggers in the same transaction as every job insert, status change and delete, whoever writes.

create table job_counts (
    user_id uuid not null,
    status  text not null,
    count   bigint not null default 0 check (count >= 0),
    primary key (user_id, status)
);

insert into job_counts (user_id, status, count)
select user_id, status, count(*) from lora_training_jobs group by user_id, status;

-- SECURITY DEFINER: the functions' role may read its counters but never write them directly.
create function maintain_job_counts() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
    if tg_op = 'TRUNCATE' then
        delete from job_counts;
        return null;
    end if;
    if tg_op in ('UPDATE', 'DELETE') then
        update job_counts set count = count - 1 where user_id = old.user_id and status = old.status;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into job_counts as c (user_id, status, count) values (new.user_id, new.status, 1)
        on conflict (user_id, status) do update set count = c.count + 1;
    end if;
    return null;
end;
$$;

create trigger lora_training_jobs_count_rows
    after insert or delete on lora_training_jobs
    for each row execute function maintain_job_counts();
create trigger lora_training_jobs_count_status_changes
    after update of status, user_id on lora_training_jobs
    for each row when (old.status is distinct from new.status or old.user_id is distinct from new.user_id)
    execute function maintain_job_counts();
create trigger lora_training_jobs_count_truncate
    after truncate on lora_training_jobs
    for each statement execute function maintain_job_counts();

grant select on job_counts to pipeline_app;
alter table job_counts enable row level security;
create policy tenant_isolation on job_counts using (user_id = app_current_user_id());
