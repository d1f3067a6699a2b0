"""The part of botocore's data directory an SQS client reads, bundled as pipeline/aws/botocore_data.

Building a client with botocore's own loader lists every one of its ~450 service directories (twice,
to check the name "sqs") and parses endpoints.json, 1.2 MB of every service's endpoints: 30 of the
~40 ms the client takes to build, at every create_job cold start. The bundle holds the same files,
byte for byte, except two: endpoints.json keeps only SQS in each partition, and the service model's
documentation strings are empty (130 of its 157 kB, read only to write docstrings and docs: parsing
it took 1.2 ms more), stored uncompressed.

A build-time tool, not in the layer. `make botocore-data` rewrites the bundle from the installed (pinned)
botocore, with a VERSION file naming that botocore (pipeline.aws.lean_sqs_client builds a plain client when
the installed one differs); a test fails when the bundle no longer matches it, e.g. after an upgrade.
"""

import gzip
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import botocore

from pipeline.aws.lean_sqs_client import BOTOCORE_DATA, VERSION_FILE

SERVICE = "sqs"
# Read while building the client (sdk-default-configuration: the config resolver; _retry: the
# standard retry mode; partitions: the endpoint rule set's partition functions).
_VERBATIM = ("_retry.json", "partitions.json", "sdk-default-configuration.json")
_ENDPOINTS = "endpoints.json"


def botocore_data_dir() -> Path:
    return Path(botocore.__file__).resolve().parent / "data"


def bundle_files(source: Path | None = None) -> dict[str, bytes]:
    """{path relative to the bundle: content}: what the bundle must hold for botocore at `source`."""
    source = source or botocore_data_dir()
    files = {name: (source / name).read_bytes() for name in _VERBATIM}
    # The service's model and endpoint rules for its latest API version, as botocore would pick it.
    latest = max(path for path in (source / SERVICE).iterdir() if path.is_dir())
    prefix = f"{SERVICE}/{latest.name}"
    files[f"{prefix}/endpoint-rule-set-1.json.gz"] = (latest / "endpoint-rule-set-1.json.gz").read_bytes()
    model = without_documentation(json.loads(gzip.decompress((latest / "service-2.json.gz").read_bytes())))
    files[f"{prefix}/service-2.json"] = json.dumps(model, separators=(",", ":")).encode()
    files[_ENDPOINTS] = _endpoints_for_service(json.loads((source / _ENDPOINTS).read_bytes()))
    files[VERSION_FILE.name] = f"{botocore.__version__}\n".encode()
    return files


def without_documentation(value: Any) -> Any:
    """The same structure with every "documentation" string empty (keys kept: some code reads them)."""
    if isinstance(value, dict):
        return {
            key: "" if key == "documentation" else without_documentation(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_documentation(item) for item in value]
    return value


def _endpoints_for_service(endpoints: dict[str, object]) -> bytes:
    partitions = endpoints["partitions"]
    assert isinstance(partitions, list)
    for partition in partitions:
        partition["services"] = {
            name: value for name, value in partition["services"].items() if name == SERVICE
        }
    return json.dumps(endpoints, indent=1, sort_keys=True).encode() + b"\n"


def write_bundle(target: Path = BOTOCORE_DATA) -> None:
    shutil.rmtree(target, ignore_errors=True)
    for relative, content in bundle_files().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


if __name__ == "__main__":
    write_bundle()
    print(f"wrote {BOTOCORE_DATA} from botocore {botocore.__version__}", file=sys.stderr)
