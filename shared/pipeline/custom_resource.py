"""Answering CloudFormation for a custom resource: one PUT of the outcome to the pre-signed ResponseURL.

CloudFormation waits up to an hour for this answer, so a custom resource must send it on every path,
failure included.
"""

import json
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal

from pipeline.observability import logger

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
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:MAX_REASON] or status,
            "PhysicalResourceId": physical_resource_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": dict(data or {}),
        }
    ).encode()
    # The URL is pre-signed for a PUT with no content type: sending one would break the signature.
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's own https URL
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        logger.info("answered CloudFormation", status=status, http_status=response.status)
