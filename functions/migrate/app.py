"""CloudFormation custom resource: apply pending migrations on Create and Update, nothing on Delete.

It answers CloudFormation on every path (success, or failure with the reason), so a stack never
hangs waiting for it. It connects as the schema owner (MIGRATION_DATABASE_URL).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pipeline.db.migrate import MigrationSettings, migrate
from pipeline.runtime.custom_resource import send_response
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.observability import logger

PHYSICAL_ID = "pipeline-schema-migrations"  # one schema per stack: the same id on every request
SAFETY_MARGIN_S = 15  # leave time to answer CloudFormation before the function times out


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Returns the answer sent to CloudFormation (with "Delivered"), so `sam local invoke` shows it."""
    physical_id = event.get("PhysicalResourceId") or PHYSICAL_ID
    try:
        if event["RequestType"] == "Delete":
            # Dropping the schema with the stack would destroy every job: deleting it is an operator's act.
            return send_response(event, "SUCCESS", physical_id, reason="Schema kept on delete")
        settings = MigrationSettings.from_env()
        budget_s = max(1.0, context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_S)
        applied = migrate(settings.owner_url(), lock_timeout_s=budget_s)
    except Exception as exc:  # noqa: BLE001 - whatever failed, CloudFormation must hear about it
        logger.exception("migrations failed")
        return send_response(
            event, "FAILED", physical_id, reason=f"Migrations failed: {type(exc).__name__}: {exc}"
        )
    reason = f"Applied {len(applied)} migration(s)"
    return send_response(
        event, "SUCCESS", physical_id, reason=reason, data={"Applied": ",".join(applied) or "none"}
    )


finish_init()
