"""An SQS client built for a short cold start by three shortcuts through botocore's internals, fenced here.

The shortcuts (create_job's cold start; `make bench` and the README give what each saves):
- botocore's SQS data from pipeline/aws/botocore_data (written by tools/botocore_data_bundle.py) instead of
  botocore's data directory of every service;
- only the built-in event handlers an SQS client can run, not all of botocore's;
- credentials from the environment without building botocore's whole provider chain.

Each leans on something botocore does not promise (Loader.is_builtin_path, handlers.BUILTIN_HANDLERS,
the "credential_provider" component), so they are taken only when it is safe to:
- the bundle records the botocore version it was cut from (botocore_data/VERSION); with any other
  botocore installed, the plain client is built instead and a warning logged, once;
- SQS_CLIENT_SHORTCUTS=false (QueueSettings) turns them off: the plain client, as boto3 builds it;
- tests/integration/aws/test_sqs_publisher.py proves each one changes nothing the client does, and
  the fallback.
Never a wrong client: with any doubt, the plain one.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import botocore
import botocore.session
from botocore import handlers
from botocore.config import Config
from botocore.credentials import CredentialResolver, EnvProvider
from botocore.hooks import EventAliaser, HierarchicalEmitter
from botocore.loaders import Loader

from pipeline.runtime.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

BOTOCORE_DATA = Path(__file__).resolve().parent / "botocore_data"
VERSION_FILE = BOTOCORE_DATA / "VERSION"

_warned = False


def sqs_client(region: str, config: Config, *, shortcuts: bool = True) -> "SQSClient":
    """The SQS client: with the shortcuts when they are on and the bundle matches botocore, else plain."""
    if shortcuts and bundle_matches_botocore():
        return _lean_client(region, config)
    return plain_client(region, config)


def plain_client(region: str, config: Config) -> "SQSClient":
    return boto3.session.Session(region_name=region).client("sqs", config=config)


def bundled_botocore_version() -> str | None:
    try:
        return VERSION_FILE.read_text().strip()
    except OSError:
        return None


def bundle_matches_botocore() -> bool:
    global _warned
    bundled = bundled_botocore_version()
    if bundled == botocore.__version__:
        return True
    if not _warned:
        _warned = True
        logger.warning(
            "botocore data bundle does not match the installed botocore; using a plain SQS client",
            bundled_botocore=bundled,
            installed_botocore=botocore.__version__,
        )
    return False


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


def _lean_client(region: str, config: Config) -> "SQSClient":
    session = _sqs_session()
    session.register_component("data_loader", _BundledDataLoader())
    environment = EnvProvider()
    if environment.load() is not None:
        # botocore's chain starts with this provider, so when the environment holds credentials (as
        # Lambda's does without SnapStart) they are the chain's answer: the rest of the chain (metadata
        # and container fetchers with their TLS contexts, profile readers) need not be built.
        session.register_component("credential_provider", CredentialResolver([environment]))
    return boto3.session.Session(botocore_session=session, region_name=region).client("sqs", config=config)


def _sqs_session() -> botocore.session.Session:
    """A botocore session with the built-in event handlers an SQS client can run, and no others.

    botocore registers all ~130 of its own (for S3, EC2, Glacier, documentation...) in every session,
    inspecting each one's signature. An SQS client's events are named "<event>", "<event>.sqs" or
    "<event>.sqs.<Operation>", so a handler registered for another service (or for documentation, which
    is never generated here) cannot run for it. Registered before the session exists, as botocore does,
    so initializers (Powertools' user agent) still come after them."""
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
