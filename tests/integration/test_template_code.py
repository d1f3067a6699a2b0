"""template.yaml agrees with the code (each app's routes, the datasets' keys) and passes cfn-lint."""

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

from tests.paths import REPO_ROOT
from tests.template_resources import FUNCTIONS, HTTP_FUNCTIONS, RESOURCES, TEMPLATE

ROOT = REPO_ROOT


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        # cfn-lint's console script sits beside the interpreter running the tests (the venv's bin/).
        [str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(HTTP_FUNCTIONS))
def test_template_routes_are_exactly_the_apps_routes(name: str) -> None:
    properties = HTTP_FUNCTIONS[name]["Properties"]
    assert properties["Handler"] == "app.lambda_handler"
    module = importlib.import_module(properties["CodeUri"].strip("/").replace("/", ".") + ".app")
    app_routes = {
        (method, route.path)
        for route in module.app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    template_routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for event in properties["Events"].values()
        if event["Type"] == "HttpApi"
    }
    assert template_routes == app_routes


# ---- datasets: the bucket, its notifications, the validator ----------------------------------------

DATASETS_PREFIX = {"Fn::Sub": "${DatasetsBucket.Arn}/users/*/datasets/*"}


def _statements(name: str) -> list[dict[str, Any]]:
    policies = FUNCTIONS[name]["Properties"].get("Policies", [])
    return [statement for policy in policies if "Statement" in policy for statement in policy["Statement"]]


def test_the_datasets_bucket_notifies_the_uploads_queue_of_exactly_the_keys_the_validator_reads() -> None:
    from local import sqs_server
    from pipeline.datasets import locations

    (notification,) = RESOURCES["DatasetsBucket"]["Properties"]["NotificationConfiguration"][
        "QueueConfigurations"
    ]
    assert notification["Event"] == "s3:ObjectCreated:*"  # a form's POST, a PUT, a multipart upload
    assert notification["Queue"] == {"Fn::GetAtt": "DatasetUploadsQueue.Arn"}
    rules = {rule["Name"]: rule["Value"] for rule in notification["Filter"]["S3Key"]["Rules"]}
    assert rules == {"prefix": "users/", "suffix": "/source.jsonl"}
    key = locations.source_key(uuid.uuid4(), uuid.uuid4())
    assert key.startswith(rules["prefix"])
    assert key.endswith(rules["suffix"])
    assert locations.parse_source_key(key) is not None
    # The local stack's bucket notifies the same keys.
    local = {"prefix": sqs_server.DATASET_FILE_PREFIX, "suffix": sqs_server.DATASET_FILE_SUFFIX}
    assert local == rules


def test_the_bucket_and_the_queue_policy_name_each_other_without_a_circular_dependency() -> None:
    bucket = RESOURCES["DatasetsBucket"]
    policy = RESOURCES["DatasetUploadsQueuePolicy"]["Properties"]
    # S3 checks, when the notification is set, that the queue lets it send: the policy comes first, and so
    # it names the bucket by the name the bucket is given, never by a reference to the bucket.
    assert bucket["DependsOn"] == "DatasetUploadsQueuePolicy"
    written = json.dumps(policy)
    for reference in ('"Fn::Ref": "DatasetsBucket"', '"Fn::GetAtt": "DatasetsBucket.', "${DatasetsBucket"):
        assert reference not in written
    (allow,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert (allow["Principal"], allow["Action"]) == ({"Service": "s3.amazonaws.com"}, "sqs:SendMessage")
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Ref": "AWS::AccountId"}}
    name = bucket["Properties"]["BucketName"]["Fn::Sub"]
    source = allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert source == ["arn:${AWS::Partition}:s3:::" + name[0], name[1]]
    # The stack id's UUID: lowercase, unique, at most 63 characters with the prefix.
    assert name[1] == {"StackUuid": {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::Ref": "AWS::StackId"}]}]}}
    assert len(name[0].replace("${StackUuid}", str(uuid.uuid4()))) <= 63
    deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in deny] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_the_datasets_bucket_is_private_encrypted_tls_only_and_cleans_up_after_failed_uploads() -> None:
    bucket = RESOURCES["DatasetsBucket"]
    properties = bucket["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["DeletionPolicy"] == "Retain"
    assert "VersioningConfiguration" not in properties  # a deleted dataset is gone
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    (cors,) = properties["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == [{"Fn::Sub": "https://${WebDistribution.DomainName}"}]
    (tls,) = RESOURCES["DatasetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    # The page may post the form to S3 (the bucket's regional or, outside us-east-1, global endpoint).
    headers = RESOURCES["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][0]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()
    assert {"https://*.s3.${AWS::Region}.${AWS::URLSuffix}", "https://*.s3.${AWS::URLSuffix}"} <= set(connect)


def test_the_uploads_queue_outlasts_the_validators_retries_into_an_alarmed_dead_letter_queue() -> None:
    validator = FUNCTIONS["DatasetValidatorFunction"]["Properties"]
    (event,) = validator["Events"].values()
    assert (event["Type"], event["Properties"]["Queue"]) == ("SQS", {"Fn::GetAtt": "DatasetUploadsQueue.Arn"})
    assert event["Properties"]["BatchSize"] == 1
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = RESOURCES["DatasetUploadsQueue"]["Properties"]
    assert validator["Timeout"] == 900  # Lambda's longest: a 1 GiB file is counted in minutes
    assert queue["VisibilityTimeout"] >= 6 * validator["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True  # SSE-SQS: S3 may send to it
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": "DatasetUploadsDeadLetterQueue.Arn"
    }
    alarm = RESOURCES["DatasetUploadsDeadLetterQueueAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": "DatasetUploadsDeadLetterQueue.QueueName"}}
    ]
    assert alarm["AlarmActions"] == [{"Fn::Ref": "OperationalAlarmsTopic"}]
    # The pipeline_worker role, the tokenizers' own layer.
    assert validator["Environment"]["Variables"]["DATABASE_SECRET_ARN"] == {
        "Fn::Ref": "WorkerDatabaseSecretArn"
    }
    assert validator["Layers"][0] == {"Fn::Ref": "TokenizersLayer"}
    assert RESOURCES["TokenizersLayer"]["Properties"]["ContentUri"] == "tokenizers/"
    assert RESOURCES["TokenizersLayer"]["Metadata"]["BuildMethod"] == "makefile"


def test_each_dataset_function_may_do_with_the_bucket_only_what_it_needs() -> None:
    s3_actions = {
        name: sorted((s["Action"], json.dumps(s["Resource"])) for s in _statements(name) if "s3:" in str(s))
        for name in FUNCTIONS
    }
    assert s3_actions["CreateDatasetFunction"] == [
        ("s3:PutObject", json.dumps(DATASETS_PREFIX))
    ]  # signs forms
    # Reads the files; lists nothing, but S3 answers a missing object 404 (not 403) only to a lister.
    assert s3_actions["DatasetValidatorFunction"] == [
        ("s3:GetObject", json.dumps(DATASETS_PREFIX)),
        ("s3:ListBucket", json.dumps({"Fn::GetAtt": "DatasetsBucket.Arn"})),
    ]
    assert s3_actions["DeleteDatasetFunction"] == [("s3:DeleteObject", json.dumps(DATASETS_PREFIX))]
    assert {name for name, actions in s3_actions.items() if actions} == {
        "CreateDatasetFunction",
        "DatasetValidatorFunction",
        "DeleteDatasetFunction",
        "JobDownloadFunction",  # the artifacts bucket's presigned downloads
    }
    (read,) = RESOURCES["DatasetsReaderPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (read["Action"], read["Resource"]) == ("s3:GetObject", DATASETS_PREFIX)  # the GPU workers' role
    outputs = TEMPLATE["Outputs"]
    assert outputs["DatasetsReaderPolicyArn"]["Value"] == {"Fn::Ref": "DatasetsReaderPolicy"}
    assert outputs["DatasetsBucketName"]["Value"] == {"Fn::Ref": "DatasetsBucket"}
    for name in (
        "CreateDatasetFunction",
        "DeleteDatasetFunction",
        "DatasetValidatorFunction",
        "JobDispatcherFunction",
    ):
        variables = FUNCTIONS[name]["Properties"]["Environment"]["Variables"]
        assert variables["DATASETS_BUCKET"] == {"Fn::Ref": "DatasetsBucket"}, name
