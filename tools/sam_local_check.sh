#!/usr/bin/env bash
# `make sam-local-check`: the README's `sam local invoke` commands, run for every function with its
# events/ file, on a machine without Docker: ../shared/tools/sam-local (podman and a stand-in of the
# Lambda Python image, x86_64 only) and the machine's PostgreSQL (/var/run/postgresql), reached from the
# containers through a unix socket forwarded into each built function folder. Needs root. Not part of
# `make test` (it sets up podman and a Debian root file system the first time, about two minutes).
# SQS is not reachable from the containers here, so create_job leaves its message in the outbox (it
# answers 201 all the same) and the relay reports the send it could not make.
set -euo pipefail
cd "$(dirname "$0")/.."
SAM_LOCAL=${SAM_LOCAL:-../shared/tools/sam-local}
PG_SOCKET_DIR=${PG_SOCKET_DIR:-/var/run/postgresql}
DB=pipeline_samlocal
export SAM_CLI_TELEMETRY=0

bash "$SAM_LOCAL/setup.sh" --python 3.12 >&2
make -s build ARCH=x86_64 >&2
psql -h "$PG_SOCKET_DIR" -U postgres -qc "drop database if exists $DB" -c "create database $DB" >&2
python3 "$SAM_LOCAL/pg_socket_forward.py" --target "$PG_SOCKET_DIR/.s.PGSQL.5432" .aws-sam/build/*Function >&2 &
forwarder=$!
trap 'kill $forwarder 2>/dev/null || true' EXIT
env_file=$(mktemp --suffix=.json)
.venv/bin/python - "$env_file" <<PY
import json, sys
env = json.load(open("events/env.json"))
env["Parameters"]["DATABASE_URL"] = "postgresql://pipeline_app@/$DB?host=/var/task"
for worker in ("OutboxRelayFunction", "JobDispatcherFunction", "JobReportsFunction", "JobWatchdogFunction",
               "WebhookDeliveryFunction", "DatasetValidatorFunction"):
    env[worker]["DATABASE_URL"] = "postgresql://pipeline_worker@/$DB?host=/var/task"
env["MigrateFunction"]["MIGRATION_DATABASE_URL"] = "postgresql://postgres@/$DB?host=/var/task"
json.dump(env, open(sys.argv[1], "w"))
PY

invoke() {  # function, event: prints the function's answer (the last line SAM prints)
  .sam-venv/bin/sam local invoke "$1" -e "events/$2.json" --env-vars "$env_file" --skip-pull-image \
    --parameter-overrides Architecture=x86_64 2>"/tmp/sam-local-$2.log" | tail -1
}
expect() {  # name, answer, python expression over `a` (the parsed answer)
  if .venv/bin/python -c "import json,sys; a=json.loads(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$2"; then
    echo "ok    $1"
  else
    echo "FAIL  $1: $2 (log: /tmp/sam-local-$1.log)"; failed=1
  fi
}
failed=0
expect migrate "$(invoke MigrateFunction migrate)" 'a["Status"] == "SUCCESS" and a["Data"]["Applied"] != "none"'
PYTHONPATH=shared:. .venv/bin/python - <<PY
import psycopg
from psycopg.rows import dict_row
from tests.factories import EVENT_DATASET_ID, EVENT_JOB_ID, EVENT_USER_ID, EVENT_WEBHOOK_ID, insert_dataset, insert_job, insert_webhook
with psycopg.connect("postgresql://postgres@/$DB?host=$PG_SOCKET_DIR", autocommit=True, row_factory=dict_row) as db:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)
    insert_webhook(db, user_id=EVENT_USER_ID, webhook_id=EVENT_WEBHOOK_ID)
    db.execute("update lora_training_jobs set artifact_key = %s where id = %s",
               (f"users/{EVENT_USER_ID}/jobs/{EVENT_JOB_ID}/adapter/a.safetensors", EVENT_JOB_ID))
PY
expect migrate_update "$(invoke MigrateFunction migrate_update)" 'a["Status"] == "SUCCESS"'
expect estimate "$(invoke EstimateFunction estimate)" 'a["statusCode"] == 200'
expect create_job "$(invoke CreateJobFunction create_job)" 'a["statusCode"] == 201'
expect list_jobs "$(invoke ListJobsFunction list_jobs)" 'a["statusCode"] == 200 and len(json.loads(a["body"])["data"]["jobs"]) == 2'
expect get_job "$(invoke GetJobFunction get_job)" 'a["statusCode"] == 200'
expect get_dataset "$(invoke GetDatasetFunction get_dataset)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["ready_for_training"] is True'
expect catalog "$(invoke CatalogFunction catalog)" 'a["statusCode"] == 200'
# Signing the upload form is local (no call to S3): a dataset row and its form.
expect create_dataset "$(invoke CreateDatasetFunction create_dataset)" 'a["statusCode"] == 201 and json.loads(a["body"])["data"]["upload"]["fields"]["key"].endswith("/source.jsonl")'
expect list_datasets "$(invoke ListDatasetsFunction list_datasets)" 'a["statusCode"] == 200 and len(json.loads(a["body"])["data"]["datasets"]) == 2'
# Its event's upload names the seeded dataset, which was not made by an upload (no file of its own): the
# notification is acknowledged, nothing read (S3 is unreachable from the containers here anyway).
expect dataset_validator "$(invoke DatasetValidatorFunction dataset_validator)" 'a == {"batchItemFailures": []}'
# The seeded dataset has a queued job: refused.
expect delete_dataset "$(invoke DeleteDatasetFunction delete_dataset)" 'a["statusCode"] == 409 and json.loads(a["body"])["error"] == "Dataset in use"'
expect job_dispatcher "$(invoke JobDispatcherFunction job_dispatcher)" 'a == {"batchItemFailures": []}'
expect job_watchdog "$(invoke JobWatchdogFunction job_watchdog)" 'a == {"silent": 0, "failed": 0, "unstarted": 0, "unstarted_failed": 0}'
expect outbox_relay "$(invoke OutboxRelayFunction outbox_relay)" 'set(a) == {"sent", "failed", "backlog"}'
expect job_reports "$(invoke JobReportsFunction job_reports)" 'a == {"batchItemFailures": []}'
expect job_metrics "$(invoke JobMetricsFunction job_metrics)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["reported_points"] >= 0'
expect job_checkpoints "$(invoke JobCheckpointsFunction job_checkpoints)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["checkpoints"] == []'
expect job_download "$(invoke JobDownloadFunction job_download)" 'a["statusCode"] == 200 and "X-Amz-Signature=" in json.loads(a["body"])["data"]["url"]'
expect job_events "$(invoke JobEventsFunction job_events)" 'a["statusCode"] == 200 and [e["type"] for e in json.loads(a["body"])["data"]["events"]][:1] == ["status_changed"]'
expect cancel_job "$(invoke CancelJobFunction cancel_job)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["cancellation"] == "requested"'
expect put_account_limits "$(invoke PutAccountLimitsFunction put_account_limits)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["monthly_spend_limit"] == 250'
expect get_account_limits "$(invoke GetAccountLimitsFunction get_account_limits)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["monthly_spend_limit"] == 250'
expect account_usage "$(invoke AccountUsageFunction account_usage)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["month"] == "2026-11" and json.loads(a["body"])["data"]["monthly_spend_limit"] == 250'
expect create_webhook "$(invoke CreateWebhookFunction create_webhook)" 'a["statusCode"] == 201 and json.loads(a["body"])["data"]["secret"].startswith("whsec_")'
expect list_webhooks "$(invoke ListWebhooksFunction list_webhooks)" 'a["statusCode"] == 200 and len(json.loads(a["body"])["data"]["webhooks"]) == 2'
expect rotate_webhook_secret "$(invoke RotateWebhookSecretFunction rotate_webhook_secret)" 'a["statusCode"] == 200 and json.loads(a["body"])["data"]["previous_secret_expires_at"] is not None'
# The seeded endpoint takes every event type: the dispatcher's claim and the reports' start above each
# queued a job.status_changed delivery for it (pending: SQS is unreachable from the containers here).
expect list_webhook_deliveries "$(invoke ListWebhookDeliveriesFunction list_webhook_deliveries)" 'a["statusCode"] == 200 and [(d["event_type"], d["status"]) for d in json.loads(a["body"])["data"]["deliveries"]] == [("job.status_changed", "pending")] * 2'
# Its event names a delivery that does not exist (as once its endpoint is deleted): dropped, acknowledged.
expect webhook_delivery "$(invoke WebhookDeliveryFunction webhook_delivery)" 'a == {"batchItemFailures": []}'
expect delete_webhook "$(invoke DeleteWebhookFunction delete_webhook)" 'a["statusCode"] == 204'
expect migrate_delete "$(invoke MigrateFunction migrate_delete)" 'a["Status"] == "SUCCESS"'
exit $failed
