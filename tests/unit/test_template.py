"""template.yaml is the source of truth for routes and resources; it lints and agrees with the code."""

import json
import tomllib
from typing import Any

import pytest

from tests.paths import REPO_ROOT
from tests.template_resources import FUNCTIONS, HTTP_FUNCTIONS, RESOURCES, TEMPLATE

ROOT = REPO_ROOT


def test_every_function_folder_has_exactly_one_template_function() -> None:
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    code_uris = {r["Properties"]["CodeUri"].strip("/").removeprefix("functions/") for r in FUNCTIONS.values()}
    assert code_uris == folders


def _statements() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for name, function in FUNCTIONS.items():
        for policy in function["Properties"].get("Policies", []):
            if "Statement" in policy:  # inline; the others are references to managed policies below
                found.extend((name, statement) for statement in policy["Statement"])
    for resource in RESOURCES.values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            found.extend(
                ("managed", statement) for statement in resource["Properties"]["PolicyDocument"]["Statement"]
            )
    return found


def test_each_queue_and_topic_has_only_its_own_senders() -> None:
    senders = [(name, s["Resource"]) for name, s in _statements() if "sqs:SendMessage" in str(s["Action"])]
    assert sorted(senders, key=str) == sorted(
        [
            ("CreateJobFunction", {"Fn::GetAtt": "JobsQueue.Arn"}),
            (
                "OutboxRelayFunction",
                [
                    {"Fn::GetAtt": "JobsQueue.Arn"},
                    {"Fn::GetAtt": "WorkerTasksQueue.Arn"},
                    {"Fn::GetAtt": "WebhookDeliveriesQueue.Arn"},
                ],
            ),
            ("JobDispatcherFunction", {"Fn::GetAtt": "WorkerTasksQueue.Arn"}),
            # Only its dead-letter queue, after a delivery's last attempt; the relay fills the queue.
            ("WebhookDeliveryFunction", {"Fn::GetAtt": "WebhookDeliveriesDeadLetterQueue.Arn"}),
            ("managed", {"Fn::GetAtt": "JobReportsQueue.Arn"}),  # WorkerReportsSenderPolicy, for workers
        ],
        key=str,
    )
    publishers = [(name, s["Resource"]) for name, s in _statements() if "sns:Publish" in str(s["Action"])]
    assert sorted(publishers, key=str) == [
        ("CancelJobFunction", {"Fn::Ref": "WorkerControlTopic"}),
        (
            "JobReportsFunction",
            {"Fn::Ref": "WorkerControlTopic"},
        ),  # a stop for a report on a job that is over
        ("JobWatchdogFunction", {"Fn::Ref": "WorkerControlTopic"}),
        ("OutboxRelayFunction", {"Fn::Ref": "WorkerControlTopic"}),
    ]


def test_workers_may_take_assigned_jobs_and_subscribe_to_control_and_nothing_else() -> None:
    statements = RESOURCES["WorkerTasksConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {(str(s["Action"]), str(s["Resource"])) for s in statements} == {
        (
            str(
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ]
            ),
            str({"Fn::GetAtt": "WorkerTasksQueue.Arn"}),
        ),
        ("sns:Subscribe", str({"Fn::Ref": "WorkerControlTopic"})),
    }


def test_worker_tasks_queue_is_fifo_encrypted_and_redrives_to_its_alarmed_dead_letter_queue() -> None:
    queue = RESOURCES["WorkerTasksQueue"]["Properties"]
    assert (queue["FifoQueue"], queue["SqsManagedSseEnabled"]) == (True, True)
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": "WorkerTasksDeadLetterQueue.Arn"},
        "maxReceiveCount": 5,
    }
    alarm = RESOURCES["WorkerTasksDeadLetterQueueAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": "WorkerTasksDeadLetterQueue.QueueName"}}
    ]
    assert RESOURCES["WorkerControlTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_no_policy_grants_wildcard_actions() -> None:
    for name, statement in _statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), (name, statement)


def test_jobs_queue_is_encrypted_and_redrives_to_the_dead_letter_queue() -> None:
    queue = RESOURCES["JobsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert RESOURCES["JobsDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": "JobsDeadLetterQueue.Arn"},
        "maxReceiveCount": 5,
    }


def test_api_authorizes_every_route_with_the_jwt_authorizer_by_default() -> None:
    auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "CognitoJwt"
    for function in HTTP_FUNCTIONS.values():
        for event in function["Properties"]["Events"].values():
            assert "Auth" not in event["Properties"], "a route must not opt out of the authorizer"


def test_outbox_relay_runs_every_minute() -> None:
    events = FUNCTIONS["OutboxRelayFunction"]["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"] == [
        "rate(1 minute)"
    ]


def test_every_function_uses_the_shared_layer_built_from_shared() -> None:
    assert TEMPLATE["Globals"]["Function"]["Layers"][0] == {"Fn::Ref": "SharedLayer"}
    layer = RESOURCES["SharedLayer"]
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Metadata"]["BuildMethod"] == "makefile"


def test_dispatcher_reports_partial_failures_and_the_queue_outlasts_its_retries() -> None:
    dispatcher = FUNCTIONS["JobDispatcherFunction"]["Properties"]
    (event,) = dispatcher["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": "JobsQueue.Arn"}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    timeout = dispatcher.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert RESOURCES["JobsQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


@pytest.mark.parametrize("queue", ["JobsDeadLetterQueue", "JobReportsDeadLetterQueue"])
def test_messages_in_a_dead_letter_queue_raise_an_alarm(queue: str) -> None:
    alarm = RESOURCES[f"{queue}Alarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": f"{queue}.QueueName"}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [{"Fn::Ref": "OperationalAlarmsTopic"}]


def test_worker_reports_arrive_in_order_per_job_and_the_queue_outlasts_the_consumers_retries() -> None:
    consumer = FUNCTIONS["JobReportsFunction"]["Properties"]
    (event,) = consumer["Events"].values()
    assert (event["Type"], event["Properties"]["Queue"]) == ("SQS", {"Fn::GetAtt": "JobReportsQueue.Arn"})
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = RESOURCES["JobReportsQueue"]["Properties"]
    assert queue["FifoQueue"] is True  # one message group per job: its reports in the order sent
    assert RESOURCES["JobReportsDeadLetterQueue"]["Properties"]["FifoQueue"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": "JobReportsDeadLetterQueue.Arn"},
        "maxReceiveCount": 5,
    }
    timeout = consumer.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert queue["VisibilityTimeout"] >= 6 * timeout
    (send,) = RESOURCES["WorkerReportsSenderPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (send["Action"], send["Resource"]) == ("sqs:SendMessage", {"Fn::GetAtt": "JobReportsQueue.Arn"})


def test_env_json_gives_every_function_every_variable_the_template_sets() -> None:
    env = json.loads((ROOT / "events" / "env.json").read_text())
    global_names = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for name, function in FUNCTIONS.items():
        names = global_names | set(function["Properties"].get("Environment", {}).get("Variables", {}))
        local = set(env["Parameters"]) | set(env.get(name, {}))
        # Powertools' own variables have defaults; everything our settings read must be given.
        missing = {
            n for n in names if not n.startswith("POWERTOOLS_") and n not in ("OUTBOX_MIN_AGE_SECONDS",)
        } - local
        assert not missing, f"{name}: events/env.json lacks {sorted(missing)}"


def test_samconfig_has_the_documented_defaults() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    assert config["validate"]["parameters"]["lint"] is True
    assert config["build"]["parameters"] == {"cached": True, "parallel": True}
    deploy = config["deploy"]["parameters"]
    assert (deploy["confirm_changeset"], deploy["resolve_s3"]) == (True, True)
    assert config["local_invoke"]["parameters"]["env_vars"] == "events/env.json"


def test_every_function_has_an_event_file() -> None:
    events = {p.stem for p in (ROOT / "events").glob("*.json")}
    for function in FUNCTIONS.values():
        folder = function["Properties"]["CodeUri"].strip("/").removeprefix("functions/")
        assert folder in events, f"events/{folder}.json is missing"


def test_private_subnets_get_the_endpoints_the_functions_need() -> None:
    sqs, secrets, s3 = (
        RESOURCES[name] for name in ("SqsVpcEndpoint", "SecretsManagerVpcEndpoint", "S3GatewayEndpoint")
    )
    assert sqs["Condition"] == secrets["Condition"] == s3["Condition"] == "UseVpc"
    for endpoint, service in ((sqs, "sqs"), (secrets, "secretsmanager")):
        assert endpoint["Properties"]["ServiceName"] == {
            "Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"
        }
        assert endpoint["Properties"]["PrivateDnsEnabled"] is True  # the usual hostnames resolve to it
    assert (s3["Properties"]["VpcEndpointType"], s3["Properties"]["RouteTableIds"]) == (
        "Gateway",
        {"Fn::Ref": "RouteTableIds"},
    )
    assert len(TEMPLATE["Rules"]["CompleteVpcSettings"]["Assertions"]) == 3


def _readers(policy: str) -> set[str]:
    return {
        name
        for name, function in FUNCTIONS.items()
        if {"Fn::Ref": policy} in function["Properties"].get("Policies", [])
    }


def test_each_function_may_read_only_its_own_database_roles_secret() -> None:
    for policy, secret in (
        ("ReadDatabaseSecretPolicy", "DatabaseSecretArn"),
        ("ReadWorkerDatabaseSecretPolicy", "WorkerDatabaseSecretArn"),
    ):
        (statement,) = RESOURCES[policy]["Properties"]["PolicyDocument"]["Statement"]
        assert (statement["Action"], statement["Resource"]) == (
            "secretsmanager:GetSecretValue",
            {"Fn::Ref": secret},
        )
    # The API's functions: pipeline_app. The relay, the dispatcher and the reports consumer:
    # pipeline_worker, named in their own environment over the global one.
    assert _readers("ReadDatabaseSecretPolicy") == {
        "EstimateFunction",
        "CreateJobFunction",
        "ListJobsFunction",
        "GetJobFunction",
        "GetDatasetFunction",
        "CreateDatasetFunction",
        "ListDatasetsFunction",
        "DeleteDatasetFunction",
        "CancelJobFunction",
        "JobEventsFunction",
        "JobMetricsFunction",
        "JobCheckpointsFunction",
        "JobDownloadFunction",
        "CreateWebhookFunction",
        "ListWebhooksFunction",
        "DeleteWebhookFunction",
        "RotateWebhookSecretFunction",
        "ListWebhookDeliveriesFunction",
        "GetAccountLimitsFunction",
        "PutAccountLimitsFunction",
        "AccountUsageFunction",
    }
    workers = {
        "OutboxRelayFunction",
        "JobDispatcherFunction",
        "JobReportsFunction",
        "JobWatchdogFunction",
        "WebhookDeliveryFunction",
        "DatasetValidatorFunction",  # records what validation found (migration 0018's grants)
    }
    assert _readers("ReadWorkerDatabaseSecretPolicy") == workers
    for name in sorted(workers):
        own = FUNCTIONS[name]["Properties"]["Environment"]["Variables"]
        assert own["DATABASE_SECRET_ARN"] == {"Fn::Ref": "WorkerDatabaseSecretArn"}
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DATABASE_SECRET_ARN"] == {"Fn::Ref": "DatabaseSecretArn"}
    assert variables["DATABASE_URL"] == ""  # no credentials frozen into the configuration


def test_snapstart_is_a_parameter_on_by_default() -> None:
    assert TEMPLATE["Parameters"]["SnapStart"]["Default"] == "true"


def test_snapstart_functions_never_read_their_secret_through_the_extension() -> None:
    # The extension authenticates callers by AWS_SESSION_TOKEN, which a SnapStart environment lacks.
    condition = TEMPLATE["Conditions"]["HttpFunctionsUseSecretsExtension"]
    assert {"Fn::Not": [{"Fn::Condition": "UseSnapStart"}]} in condition["Fn::And"]
    for name, function in HTTP_FUNCTIONS.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if name != "CatalogFunction":  # no database
            assert variables["DATABASE_SECRET_READER"] == {
                "Fn::If": ["HttpFunctionsUseSecretsExtension", "extension", "sdk"]
            }, name


def test_the_secrets_extension_layer_is_optional_so_sam_local_needs_nothing_from_aws() -> None:
    assert TEMPLATE["Parameters"]["SecretsExtensionLayerArn"]["Default"] == ""
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Fn::Ref": "SharedLayer"}]
    extension = {"Fn::Ref": "SecretsExtensionLayerArn"}, {"Fn::Ref": "AWS::NoValue"}
    for name, function in FUNCTIONS.items():
        layers = function["Properties"].get("Layers", [])
        if name == "CatalogFunction":  # no secret to read
            assert layers == []
        elif name == "DatasetValidatorFunction":  # the tokenizers, its alone
            assert layers == [{"Fn::Ref": "TokenizersLayer"}, {"Fn::If": ["HasSecretsExtension", *extension]}]
        elif name in HTTP_FUNCTIONS:  # SnapStart: the extension cannot serve them
            assert layers == [{"Fn::If": ["HttpFunctionsUseSecretsExtension", *extension]}], name
        else:
            assert layers == [{"Fn::If": ["HasSecretsExtension", *extension]}], name
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["DATABASE_URL"] == ""


def test_every_route_requires_a_scope_only_access_tokens_carry_and_the_local_gateway_checks_the_same() -> (
    None
):
    from local.auth_tokens import REQUIRED_SCOPES

    authorizer = RESOURCES["HttpApi"]["Properties"]["Auth"]["Authorizers"]["CognitoJwt"]
    assert tuple(authorizer["AuthorizationScopes"]) == REQUIRED_SCOPES


def test_no_secret_is_resolved_into_the_configuration_at_deploy_time() -> None:
    # Dynamic references would put the owner's password and the cursor secret in plain environment
    # variables; the functions read both at run time instead.
    assert "{{resolve:" not in (ROOT / "template.yaml").read_text()
    migrate = FUNCTIONS["MigrateFunction"]["Properties"]
    assert migrate["Environment"]["Variables"]["MIGRATION_DATABASE_SECRET_ARN"] == {
        "Fn::Ref": "DatabaseOwnerSecretArn"
    }
    listing = FUNCTIONS["ListJobsFunction"]["Properties"]["Environment"]["Variables"]
    assert listing["PAGINATION_CURSOR_SECRET_ARN"] == {"Fn::Ref": "PaginationCursorSecret"}


def _alarm_actions_reach_the_topic(alarm: dict[str, Any]) -> None:
    assert alarm["Properties"]["AlarmActions"] == [{"Fn::Ref": "OperationalAlarmsTopic"}]


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_cloudwatch_may_publish() -> None:
    topic = RESOURCES["OperationalAlarmsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::Ref": "OperationalAlarmsKey"}  # not alias/aws/sns
    key_statements = RESOURCES["OperationalAlarmsKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in key_statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert [sorted(s["Action"]) for s in cloudwatch] == [["kms:Decrypt", "kms:GenerateDataKey*"]]
    (publish,) = RESOURCES["OperationalAlarmsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (publish["Principal"], publish["Action"]) == (
        {"Service": "cloudwatch.amazonaws.com"},
        "sns:Publish",
    )


def test_server_errors_function_errors_throttles_timeouts_and_a_stuck_outbox_raise_alarms() -> None:
    alarms = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {
        "JobsDeadLetterQueueAlarm",
        "ApiServerErrorRateAlarm",
        "ApiFunctionErrorsAlarm",
        "BackgroundFunctionErrorsAlarm",
        "ApiFunctionThrottlesAlarm",
        "ApiJobDetailsFunctionErrorsAlarm",
        "ApiJobDetailsFunctionThrottlesAlarm",
        "ApiWebhooksFunctionErrorsAlarm",
        "ApiWebhooksFunctionThrottlesAlarm",
        "ApiAccountFunctionErrorsAlarm",
        "ApiAccountFunctionThrottlesAlarm",
        "BackgroundFunctionThrottlesAlarm",
        "WorkerReportsNotAppliedAlarm",
        "UnstartedJobsFailedAlarm",
        "FunctionTimeoutsAlarm",
        "OutboxOldestPendingAgeAlarm",
        "SilentJobsFailedAlarm",
    } <= set(alarms)
    for alarm in alarms.values():
        _alarm_actions_reach_the_topic(alarm)

    rate = {m["Id"]: m for m in alarms["ApiServerErrorRateAlarm"]["Properties"]["Metrics"]}
    assert rate["errors"]["MetricStat"]["Metric"]["MetricName"] == "5xx"
    assert rate["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"

    served = {name for name in FUNCTIONS if name != "MigrateFunction"}
    for metric in ("Errors", "Throttles"):
        watched = {
            m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Fn::Ref"]
            for alarm in (
                f"ApiFunction{metric}Alarm",
                f"ApiJobDetailsFunction{metric}Alarm",
                f"ApiWebhooksFunction{metric}Alarm",
                f"ApiAccountFunction{metric}Alarm",
                f"BackgroundFunction{metric}Alarm",
            )
            for m in alarms[alarm]["Properties"]["Metrics"]
            if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == metric
        }
        assert watched == served, metric
    for name, alarm in alarms.items():
        queries = alarm["Properties"].get("Metrics", [])
        # CloudWatch refuses an alarm on metric math with more than 10 metrics (a deploy-time failure).
        assert len([q for q in queries if "MetricStat" in q]) <= 10, name
        for query in queries:
            if "Expression" in query and query["Expression"].startswith("SUM(["):
                summed = query["Expression"].removeprefix("SUM([").removesuffix("])").split(", ")
                assert sorted(summed) == sorted(q["Id"] for q in queries if "MetricStat" in q), name

    filters = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Logs::MetricFilter"]
    timed_out = {f["LogGroupName"]["Fn::Ref"] for f in filters if f["FilterPattern"] == '"Task timed out"'}
    assert timed_out == {f["Properties"]["LoggingConfig"]["LogGroup"]["Fn::Ref"] for f in FUNCTIONS.values()}

    age = alarms["OutboxOldestPendingAgeAlarm"]["Properties"]
    assert (
        age["Namespace"]
        == TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    assert age["Dimensions"] == [
        {
            "Name": "service",
            "Value": TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"],
        }
    ]
    assert 'name="OutboxOldestPendingAge"' in (ROOT / "functions" / "outbox_relay" / "app.py").read_text()
    silent = alarms["SilentJobsFailedAlarm"]["Properties"]
    assert (silent["Namespace"], silent["Dimensions"]) == (age["Namespace"], age["Dimensions"])
    assert f'name="{silent["MetricName"]}"' in (ROOT / "functions" / "job_watchdog" / "app.py").read_text()


def test_creating_jobs_is_throttled_tighter_than_the_rest_of_the_api() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    create = api["RouteSettings"]["POST /jobs"]
    parameters = TEMPLATE["Parameters"]
    assert create["ThrottlingRateLimit"] == {"Fn::Ref": "CreateJobThrottlingRateLimit"}
    assert (
        parameters["CreateJobThrottlingRateLimit"]["Default"] < parameters["ThrottlingRateLimit"]["Default"]
    )
    assert (
        parameters["CreateJobThrottlingBurstLimit"]["Default"] < parameters["ThrottlingBurstLimit"]["Default"]
    )


def test_deployed_webhooks_go_to_https_public_receivers_only_and_retry_into_their_dead_letter_queue() -> None:
    for name in ("CreateWebhookFunction", "WebhookDeliveryFunction"):
        variables = FUNCTIONS[name]["Properties"]["Environment"]["Variables"]
        assert variables["WEBHOOKS_ALLOW_LOCAL_RECEIVERS"] == "false", name
    delivery = FUNCTIONS["WebhookDeliveryFunction"]["Properties"]
    schedule = [
        int(s) for s in delivery["Environment"]["Variables"]["WEBHOOK_RETRY_SCHEDULE_SECONDS"].split(",")
    ]
    assert sum(schedule) / 3600 > 24  # retried for more than a day
    assert max(schedule) <= 43_200  # SQS hides a message at most 12 hours at a time
    queue = RESOURCES["WebhookDeliveriesQueue"]["Properties"]
    # Every attempt fits before the redrive, which only catches what the function cannot handle.
    assert queue["RedrivePolicy"]["maxReceiveCount"] > len(schedule) + 1
    assert queue["MessageRetentionPeriod"] > sum(schedule)
    assert queue["VisibilityTimeout"] >= 6 * delivery["Timeout"]
    assert delivery["Events"]["WebhookDeliveriesQueue"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"
    ]
    actions = {(s["Sid"], s["Action"]) for _, s in _statements() if s.get("Sid") in (
        "HideUntilTheRetryIsDue", "DeadLetterAfterTheLastAttempt"
    )}  # fmt: skip
    assert actions == {
        ("HideUntilTheRetryIsDue", "sqs:ChangeMessageVisibility"),
        ("DeadLetterAfterTheLastAttempt", "sqs:SendMessage"),
    }
