-- Webhooks: a user's receivers of job events, each delivery of an event to one of them, and every
-- attempt at it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature).
--
-- A delivery is written, with an outbox row (destination 'webhooks') naming it, in the transaction
-- that records the job's change of status; the relay hands the row to the webhook deliveries queue,
-- whose function (WebhookDeliveryFunction) posts it, records the attempt, and backs off until the
-- receiver answers 2xx or the last attempt failed.

create table webhook_endpoints (
    id                         uuid primary key default gen_random_uuid(),
    user_id                    uuid not null,
    url                        text not null check (length(url) between 1 and 2048),
    description                text not null default '' check (length(description) <= 500),
    events                     text[] not null check (
        cardinality(events) between 1 and 4
        and events <@ array['job.status_changed', 'job.completed', 'job.failed', 'job.cancelled']
    ),
    -- Signing needs the secret itself, so it is stored as issued (whsec_ + base64); the API shows it
    -- only when it is created or rotated. After a rotation the previous one signs too, for a while,
    -- so a receiver can switch without refusing deliveries in flight.
    secret                     text not null check (secret like 'whsec_%'),
    previous_secret            text check (previous_secret like 'whsec_%'),
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz not null default now(),
    secret_rotated_at          timestamptz
);
create index webhook_endpoints_user_id_idx on webhook_endpoints (user_id, created_at);

create table webhook_deliveries (
    seq                  bigint generated always as identity primary key, -- the listing's order
    id                   uuid not null unique default gen_random_uuid(),   -- webhook-id: msg_<hex>
    endpoint_id          uuid not null references webhook_endpoints (id) on delete cascade,
    user_id              uuid not null,
    job_id               uuid not null references lora_training_jobs (id),
    event_type           text not null,
    payload              text not null, -- the exact body: every attempt signs and sends these bytes
    status               text not null default 'pending'
        check (status in ('pending', 'delivered', 'failed')),
    attempts             integer not null default 0 check (attempts >= 0),
    created_at           timestamptz not null default now(),
    last_attempt_at      timestamptz,
    next_attempt_at      timestamptz,
    last_response_status integer,
    last_error           text,
    delivered_at         timestamptz
);
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, seq);

create table webhook_delivery_attempts (
    delivery_id     uuid not null references webhook_deliveries (id) on delete cascade,
    user_id         uuid not null,
    attempt         integer not null check (attempt >= 1),
    attempted_at    timestamptz not null default now(),
    response_status integer,
    response_body   text check (length(response_body) <= 512), -- only a prefix is kept
    error           text check (length(error) <= 500),
    duration_ms     integer not null check (duration_ms >= 0),
    primary key (delivery_id, attempt)
);

alter table webhook_endpoints enable row level security;
alter table webhook_endpoints force row level security;
create policy tenant_isolation on webhook_endpoints
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
alter table webhook_deliveries enable row level security;
alter table webhook_deliveries force row level security;
create policy tenant_isolation on webhook_deliveries
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());
alter table webhook_delivery_attempts enable row level security;
alter table webhook_delivery_attempts force row level security;
create policy tenant_isolation on webhook_delivery_attempts
    using (user_id = app_current_user_id()) with check (user_id = app_current_user_id());

-- The API manages endpoints, lists deliveries, and enqueues the deliveries of a cancel it records.
grant select, insert, delete on webhook_endpoints to pipeline_app;
grant update (secret, previous_secret, previous_secret_expires_at, secret_rotated_at)
    on webhook_endpoints to pipeline_app;
grant select, insert on webhook_deliveries to pipeline_app;
grant usage on sequence webhook_deliveries_seq_seq to pipeline_app;
grant select on webhook_delivery_attempts to pipeline_app;

-- The workers' role enqueues the deliveries of the changes it records (dispatch, reports, the
-- watchdog) and delivers them: it reads the secret to sign, records attempts, never edits endpoints.
grant select on webhook_endpoints to pipeline_worker;
grant select, insert on webhook_deliveries to pipeline_worker;
grant usage on sequence webhook_deliveries_seq_seq to pipeline_worker;
grant update (status, attempts, last_attempt_at, next_attempt_at, last_response_status, last_error,
    delivered_at) on webhook_deliveries to pipeline_worker;
grant select, insert on webhook_delivery_attempts to pipeline_worker;

-- The outbox carries the deliveries to their queue; both roles write them beside what they record.
alter table job_queue_outbox drop constraint job_queue_outbox_destination_check;
alter table job_queue_outbox add constraint job_queue_outbox_destination_check
    check (destination in ('jobs', 'worker_tasks', 'worker_control', 'webhooks'));
alter policy workers_role_messages on job_queue_outbox
    with check (destination in ('worker_tasks', 'worker_control', 'webhooks'));
alter policy api_destinations on job_queue_outbox
    with check (destination in ('jobs', 'worker_control', 'webhooks'));
