"""Who is calling: API Gateway's JWT authorizer has verified the token; its `sub` claim is the caller.

Fail closed: no authorizer context, no `sub`, or a `sub` that is not a UUID in its one canonical form
(lowercase, hyphenated: what Cognito issues) means 401: `urn:uuid:…`, braces or upper case name the same
UUID to Python's parser, and must not act as that user. The caller's id is never taken from the body or
the query string.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pipeline.http.errors import unauthorized


def caller_id(event: Mapping[str, Any]) -> UUID:
    try:
        sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
        caller = UUID(sub)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise unauthorized() from None
    if str(caller) != sub:
        raise unauthorized()
    return caller
