-- The relay publishes pending rows in order of creation: index exactly that set and order.
drop index job_queue_outbox_pending_idx;
create index job_queue_outbox_pending_idx on job_queue_outbox (created_at, id) where sent_at is null;
