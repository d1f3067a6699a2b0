"""Answering CloudFormation for a custom resource: one PUT of the outcome to the pre-signed ResponseURL.

CloudFormation waits up to an hour for this answer, so a custom resource must send it on every path,
failure included. A PUT that fails is tried again a few times; if the URL stays unreachable (an S3
outage, or `sam local invoke` with the example event, whose URL is not real), the failure is logged and
the answer returned to the caller instead of raising: nothing else could deliver it.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal

from pipeline.runtime.observability import logger

Status = Literal["SUCCESS", "FAILED"]
MAX_REASON = 1000  # CloudFormation shows the reason in the stack's events; keep it short


def send_response(
    event: Mapping[str, Any],
    status: Status,
    physical_resource_id: str,
    *,
    reason: str = "",
    data: Mapping[str, str] | None = None,
    timeout_s: float = 10,
    attempts: int = 3,
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "Status": status,
        "Reason": reason[:MAX_REASON] or status,
        "PhysicalResourceId": physical_resource_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": dict(data or {}),
    }
    body = json.dumps(answer).encode()
    # The URL is pre-signed for a PUT with no content type: sending one would break the signature.
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's own https URL
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                logger.info("answered CloudFormation", status=status, http_status=response.status)
                return answer | {"Delivered": True}
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            if attempt == attempts:
                logger.error(
                    "could not answer CloudFormation",
                    status=status,
                    error=type(exc).__name__,
                    attempts=attempts,
                )
            else:
                time.sleep(0.5 * attempt)
    return answer | {"Delivered": False}
