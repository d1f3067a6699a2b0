"""Who is calling: API Gateway's JWT authorizer has verified the token; its `sub` claim is the caller.

Fail closed: no authorizer context, no `sub`, or a `sub` that is not a UUID means 401. The caller's id
is never taken from the body or the query string.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pipeline.errors import unauthorized


def caller_id(event: Mapping[str, Any]) -> UUID:
    try:
        sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
        return UUID(sub)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise unauthorized() from None
