"""The API's error format: `{"error": "...", "details": ...}` with the right status code.

Only what is safe for a client goes into an ApiError; exception text, SQL and stack traces are logged,
never returned.
"""

from typing import Any

from pydantic import ValidationError


class ApiError(Exception):
    def __init__(
        self,
        status_code: int,
        error: str,
        details: Any = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.details = details
        self.data = data
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.details is not None:
            body["details"] = self.details
        if self.data is not None:
            body["data"] = self.data
        return body


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Pydantic errors keyed by dotted field path: {"gpu_config.count": ["Input should be ..."]}."""
    details: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        details.setdefault(path, []).append(error["msg"])
    return details


def validation_error(exc: ValidationError) -> ApiError:
    return ApiError(400, "Validation error", field_errors(exc))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "A valid bearer token is required")


def dataset_not_found() -> ApiError:
    return ApiError(404, "Dataset not found or access denied")


def job_not_found() -> ApiError:
    return ApiError(404, "Training job not found")


def service_unavailable() -> ApiError:
    return ApiError(503, "Service unavailable", headers={"Retry-After": "5"})
