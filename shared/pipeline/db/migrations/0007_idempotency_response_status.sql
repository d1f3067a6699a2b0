-- Every stored response is a 201 with the created job: the status column says nothing. Expand and
-- contract: functions of the previous release still write it while this deploy rolls out, so it gets
-- a default now (new code stops writing it) and is dropped by a later migration.
alter table idempotency_keys alter column response_status set default 201;
