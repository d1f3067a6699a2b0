"""Sends job messages to the jobs queue (SQS). The only module that imports boto3.

The client is created once per execution environment, and built for a short cold start (it is most of
create_job's own): botocore's SQS data from pipeline/botocore_data (see pipeline.botocore_data_bundle),
only the built-in event handlers an SQS client can run, the environment's credentials without the rest
of botocore's chain. tests/test_sqs_publisher.py shows none of it changes what the client does. boto3
honours AWS_ENDPOINT_URL, so a local SQS (moto server) works with no code change. Timeouts are short:
the job is already committed, so a slow queue must not hold the response; a failed send is retried by
the outbox relay.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import botocore.session
from botocore import handlers
from botocore.config import Config
from botocore.credentials import CredentialResolver, EnvProvider
from botocore.hooks import EventAliaser, HierarchicalEmitter
from botocore.loaders import Loader
from pydantic import Field

from pipeline.outbox_repository import PendingMessage
from pipeline.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

# botocore's data for SQS, written by pipeline.botocore_data_bundle (`make botocore-data`).
BOTOCORE_DATA = Path(__file__).resolve().parent / "botocore_data"

_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)


class QueueSettings(EnvSettings):
    jobs_queue_url: str = Field(alias="JOBS_QUEUE_URL", pattern=r"^https?://")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)


class SqsJobPublisher:
    def __init__(self, settings: QueueSettings) -> None:
        self._queue_url = settings.jobs_queue_url
        self._client = _sqs_client(settings.aws_region)

    def publish(self, *, body: str, message_type: str, version: int) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url, MessageBody=body, MessageAttributes=_attributes(message_type, version)
        )

    def publish_batch(self, messages: list[PendingMessage]) -> dict[int, str]:
        """SendMessageBatch (at most 10); {outbox id: error code} for the entries SQS refused."""
        response = self._client.send_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {
                    "Id": str(message.id),
                    "MessageBody": message.body,
                    "MessageAttributes": _attributes(message.message_type, message.message_version),
                }
                for message in messages
            ],
        )
        return {int(entry["Id"]): entry.get("Code", "Failed") for entry in response.get("Failed", [])}


class _BundledDataLoader(Loader):
    """botocore's loader, searching only the bundle: botocore's own data directory holds ~450 services
    that this client would list, and an endpoints.json of all of them that it would parse."""

    BUNDLE = str(BOTOCORE_DATA)

    def __init__(self) -> None:
        super().__init__(extra_search_paths=[self.BUNDLE], include_default_search_paths=False)

    def is_builtin_path(self, path: str) -> bool:
        # The bundle is botocore's own data, not a customer's override: endpoints keep being resolved by
        # SQS's endpoint rules, as with the full data (botocore feeds an overridden endpoints.json's
        # answer to the rules as a custom endpoint instead).
        return path.startswith(self.BUNDLE) or super().is_builtin_path(path)


def _sqs_client(region: str) -> "SQSClient":
    session = _sqs_session()
    session.register_component("data_loader", _BundledDataLoader())
    environment = EnvProvider()
    if environment.load() is not None:
        # botocore's chain starts with this provider, so when the environment holds credentials (as
        # Lambda's does) they are the chain's answer; building the rest of the chain (instance-metadata
        # and container fetchers with their TLS contexts, profile readers) cost 2.6 ms of cold start.
        session.register_component("credential_provider", CredentialResolver([environment]))
    return boto3.session.Session(botocore_session=session, region_name=region).client(
        "sqs", config=_CLIENT_CONFIG
    )


def _sqs_session() -> botocore.session.Session:
    """A botocore session with the built-in event handlers an SQS client can run, and no others.

    botocore registers all ~130 of its own (for S3, EC2, Glacier, documentation...) in every session,
    inspecting each one's signature: 4.5 ms of cold start. An SQS client's events are named
    "<event>", "<event>.sqs" or "<event>.sqs.<Operation>", so a handler registered for another service
    (or for documentation, which is never generated here) cannot run for it. Registered before the
    session exists, as botocore does, so initializers (Powertools' user agent) still come after them."""
    emitter = HierarchicalEmitter()
    aliased = EventAliaser(emitter)
    for event_name, handler, *placement in handlers.BUILTIN_HANDLERS:
        kind, _, scope = event_name.partition(".")
        if kind == "docs" or scope.split(".")[0] not in ("", "sqs", "*"):
            continue
        if placement == [handlers.REGISTER_FIRST]:
            aliased.register_first(event_name, handler)
        elif placement == [handlers.REGISTER_LAST]:
            aliased.register_last(event_name, handler)
        else:
            aliased.register(event_name, handler)
    return botocore.session.Session(event_hooks=emitter, include_builtin_handlers=False)


def _attributes(message_type: str, version: int) -> "dict[str, MessageAttributeValueTypeDef]":
    return {
        "type": {"DataType": "String", "StringValue": message_type},
        "version": {"DataType": "Number", "StringValue": str(version)},
    }
