"""The SQS client is built for a short cold start: botocore's SQS data from the bundle in
pipeline/aws/botocore_data, only the built-in handlers an SQS client can run, and the environment's
credentials without botocore's whole chain. None of it changes what the client does: the bundle is
the installed botocore's own files (endpoints cut to SQS, the model's documentation emptied), endpoints
resolve and events run handlers exactly as with a client built the default way, and without
credentials in the environment botocore's chain still finds them.
"""

import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest
from botocore.awsrequest import AWSRequest

from pipeline.aws import lean_sqs_client, sqs_publisher
from tools import botocore_data_bundle

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "us-iso-east-1"]
QUEUE_URL = "https://sqs.{region}.amazonaws.com/123456789012/jobs"


class _Resolved(Exception):
    def __init__(self, *outcome: str | None) -> None:
        self.outcome = ("resolved", *outcome)


def _raise_resolved(request: AWSRequest, signing_name: str, region_name: str, **_: Any) -> None:
    # Stop before signing: where the request would go, and for which signing scope, is all that matters.
    raise _Resolved(request.url, signing_name, region_name)


def _where_send_message_goes(client: Any, region: str) -> tuple[str | None, ...]:
    client.meta.events.register("before-sign.sqs.SendMessage", _raise_resolved)
    try:
        client.send_message(QueueUrl=QUEUE_URL.format(region=region), MessageBody="{}")
    except _Resolved as resolved:
        return resolved.outcome
    except botocore.exceptions.BotoCoreError as exc:
        return ("refused", type(exc).__name__, str(exc))
    raise AssertionError("the request was neither resolved nor refused")


def _files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()
    }


def test_the_bundle_is_what_make_botocore_data_writes_from_the_installed_botocore() -> None:
    # Fails after a botocore upgrade until `make botocore-data` rewrites the bundle.
    assert _files_under(lean_sqs_client.BOTOCORE_DATA) == botocore_data_bundle.bundle_files()


def test_the_bundled_files_botocore_reads_unchanged_are_its_own_bytes() -> None:
    # Checked against botocore's folder itself, not through the writer that made the bundle.
    source, bundle = botocore_data_bundle.botocore_data_dir(), lean_sqs_client.BOTOCORE_DATA
    [rules] = bundle.glob("sqs/*/endpoint-rule-set-1.json.gz")
    unchanged = ["_retry.json", "partitions.json", "sdk-default-configuration.json"]
    unchanged.append(rules.relative_to(bundle).as_posix())

    for name in unchanged:
        assert (bundle / name).read_bytes() == (source / name).read_bytes(), name


def _no_documentation(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _no_documentation(item) for key, item in value.items() if key != "documentation"}
    return [_no_documentation(item) for item in value] if isinstance(value, list) else value


def test_the_bundled_service_model_differs_from_botocores_only_by_its_documentation() -> None:
    [original] = botocore_data_bundle.botocore_data_dir().glob("sqs/*/service-2.json.gz")
    [bundled] = lean_sqs_client.BOTOCORE_DATA.glob("sqs/*/service-2.json")
    full, small = json.loads(gzip.decompress(original.read_bytes())), json.loads(bundled.read_bytes())

    assert bundled.parent.name == original.parent.name
    assert _no_documentation(small) == _no_documentation(full)
    assert full["operations"]["SendMessage"]["documentation"]
    assert small["operations"]["SendMessage"]["documentation"] == ""


def test_the_bundled_endpoints_keep_sqs_in_every_partition_and_nothing_else() -> None:
    full = json.loads((botocore_data_bundle.botocore_data_dir() / "endpoints.json").read_bytes())
    bundled = json.loads((lean_sqs_client.BOTOCORE_DATA / "endpoints.json").read_bytes())

    assert [p["partition"] for p in bundled["partitions"]] == [p["partition"] for p in full["partitions"]]
    for small, whole in zip(bundled["partitions"], full["partitions"], strict=True):
        assert small["services"] == {"sqs": whole["services"]["sqs"]}
        assert {k: v for k, v in small.items() if k != "services"} == {
            k: v for k, v in whole.items() if k != "services"
        }


@pytest.mark.parametrize("variant", ["standard", "fips", "dualstack", "fips+dualstack"])
@pytest.mark.parametrize("region", REGIONS)
def test_the_client_resolves_every_endpoint_as_a_client_from_botocores_full_data_does(
    region: str, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", str("fips" in variant).lower())
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", str("dualstack" in variant).lower())
    reference = boto3.session.Session(region_name=region).client("sqs", config=sqs_publisher.CLIENT_CONFIG)

    bundled = _where_send_message_goes(
        lean_sqs_client._lean_client(region, sqs_publisher.CLIENT_CONFIG), region
    )

    assert bundled == _where_send_message_goes(reference, region)
    if variant == "standard":
        assert bundled[0] == "resolved"


def test_building_the_client_and_sending_reads_nothing_from_botocores_data_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    botocore_data = str(botocore_data_bundle.botocore_data_dir())
    touched: list[str] = []
    for name in ("listdir", "stat"):
        original = getattr(os, name)

        def recording(path: Any, *args: Any, original: Any = original, **kwargs: Any) -> Any:
            touched.append(os.fsdecode(path))
            return original(path, *args, **kwargs)

        monkeypatch.setattr(os, name, recording)

    client = lean_sqs_client._lean_client("eu-west-1", sqs_publisher.CLIENT_CONFIG)
    outcome = _where_send_message_goes(client, "eu-west-1")

    assert outcome[0] == "resolved"
    assert any(path.startswith(str(lean_sqs_client.BOTOCORE_DATA)) for path in touched)
    assert [path for path in touched if path.startswith(botocore_data)] == []


def _handler_name(handler: Any) -> str:
    target = getattr(handler, "func", handler)  # functools.partial
    return f"{target.__module__}.{getattr(target, '__qualname__', type(target).__qualname__)}"


def _handlers_for(client: Any, event_name: str) -> list[str]:
    # botocore's emitter has no public way to list handlers; the lookup it uses to emit is the truth.
    emitter = client.meta.events._emitter
    return [_handler_name(handler) for handler in emitter._handlers.prefix_search(event_name)]


def _exercise(client: Any, queue_url: str) -> None:
    client.send_message(QueueUrl=queue_url, MessageBody="{}", MessageAttributes=_attributes())
    client.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "1", "MessageBody": "{}"}])
    with pytest.raises(botocore.exceptions.ClientError):
        client.send_message(QueueUrl=queue_url + "-missing", MessageBody="{}")


def _attributes() -> dict[str, Any]:
    return {"type": {"DataType": "String", "StringValue": "training_job.queued"}}


def test_the_client_runs_exactly_the_builtin_handlers_a_client_from_a_full_session_runs(
    sqs_queue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emitted: set[str] = set()
    original_emit = botocore.hooks.HierarchicalEmitter._emit  # type: ignore[attr-defined]

    def recording_emit(self: Any, event_name: str, *args: Any, **kwargs: Any) -> Any:
        emitted.add(event_name)
        return original_emit(self, event_name, *args, **kwargs)

    monkeypatch.setattr(botocore.hooks.HierarchicalEmitter, "_emit", recording_emit)
    reference = boto3.session.Session(region_name="us-east-1").client(
        "sqs", config=sqs_publisher.CLIENT_CONFIG
    )
    ours = lean_sqs_client._lean_client("us-east-1", sqs_publisher.CLIENT_CONFIG)
    _exercise(reference, sqs_queue.queue_url)
    _exercise(ours, sqs_queue.queue_url)

    assert {
        "before-call.sqs.SendMessage",
        "needs-retry.sqs.SendMessage",
        "creating-client-class.sqs",
    } <= emitted
    for event_name in sorted(emitted):
        assert _handlers_for(ours, event_name) == _handlers_for(reference, event_name), event_name
    sqs_queue.receive_all()


def test_the_session_leaves_out_handlers_only_other_services_and_documentation_use() -> None:
    session = lean_sqs_client._sqs_session()
    kept = {
        _handler_name(handler)
        for event_name in (
            "before-call.sqs.SendMessage",
            "before-call.s3.PutObject",
            "docs.*.s3.*.complete-section",
        )
        for handler in session.get_component("event_emitter")._emitter._handlers.prefix_search(event_name)
    }

    assert "botocore.handlers.inject_api_version_header_if_needed" in kept
    assert "botocore.handlers.sse_md5" not in kept  # S3's
    assert "botocore.handlers.document_auto_populated_param" not in kept


def _signing_credentials(client: Any) -> Any:
    return client._request_signer._credentials  # what every request is signed with


def test_credentials_in_the_environment_are_used_without_building_botocores_whole_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDA")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lambda-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "lambda-token")

    def no_chain(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("botocore's default credential chain was built")

    monkeypatch.setattr(botocore.credentials, "create_credential_resolver", no_chain)
    credentials = _signing_credentials(lean_sqs_client._lean_client("us-east-1", sqs_publisher.CLIENT_CONFIG))

    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIDLAMBDA",
        "lambda-secret",
        "lambda-token",
    )


def test_without_credentials_in_the_environment_botocores_chain_finds_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text(
        "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    credentials = _signing_credentials(lean_sqs_client._lean_client("us-east-1", sqs_publisher.CLIENT_CONFIG))

    assert (credentials.access_key, credentials.secret_key) == ("AKIDFILE", "file-secret")


def _data_folders_read(monkeypatch: pytest.MonkeyPatch, build: Any) -> set[str]:
    """Which data folders (the bundle, botocore's own) building a client and resolving a send reads."""
    touched: list[str] = []
    original = os.stat

    def recording(path: Any, *args: Any, **kwargs: Any) -> Any:
        touched.append(os.fsdecode(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", recording)
    try:
        assert _where_send_message_goes(build(), "eu-west-1")[0] == "resolved"
    finally:
        monkeypatch.setattr(os, "stat", original)
    folders = {
        "bundle": str(lean_sqs_client.BOTOCORE_DATA),
        "botocore": str(botocore_data_bundle.botocore_data_dir()),
    }
    return {name for name, folder in folders.items() if any(path.startswith(folder) for path in touched)}


@pytest.fixture
def warned_never(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lean_sqs_client, "_warned", False)


def test_the_bundle_records_the_botocore_it_was_cut_from() -> None:
    assert lean_sqs_client.bundled_botocore_version() == botocore.__version__


def test_with_another_botocore_installed_the_client_is_botocores_plain_one_and_a_warning_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, warned_never: None
) -> None:
    monkeypatch.setattr(botocore, "__version__", "1.44.999")
    caplog.set_level(logging.WARNING)

    def build() -> Any:
        return lean_sqs_client.sqs_client("eu-west-1", sqs_publisher.CLIENT_CONFIG)

    assert _data_folders_read(monkeypatch, build) == {"botocore"}
    lean_sqs_client.sqs_client("eu-west-1", sqs_publisher.CLIENT_CONFIG)  # a second client: no second warning

    warnings = [r for r in caplog.records if "does not match the installed botocore" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].__dict__["bundled_botocore"] == lean_sqs_client.bundled_botocore_version()
    assert warnings[0].__dict__["installed_botocore"] == "1.44.999"


def test_a_bundle_without_its_version_file_is_never_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, warned_never: None
) -> None:
    monkeypatch.setattr(lean_sqs_client, "VERSION_FILE", tmp_path / "VERSION")
    assert lean_sqs_client.bundle_matches_botocore() is False


def test_with_the_matching_botocore_the_client_reads_only_the_bundle(
    monkeypatch: pytest.MonkeyPatch, warned_never: None
) -> None:
    def build() -> Any:
        return lean_sqs_client.sqs_client("eu-west-1", sqs_publisher.CLIENT_CONFIG)

    assert _data_folders_read(monkeypatch, build) == {"bundle"}


def test_the_switch_off_builds_botocores_plain_client(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = sqs_publisher.QueueSettings.from_env(
        {
            "JOBS_QUEUE_URL": QUEUE_URL.format(region="eu-west-1"),
            "AWS_REGION": "eu-west-1",
            "SQS_CLIENT_SHORTCUTS": "false",
        }
    )
    assert settings.client_shortcuts is False

    def build() -> Any:
        return sqs_publisher.SqsJobPublisher(settings)._client

    assert _data_folders_read(monkeypatch, build) == {"botocore"}
