"""Post-deploy smoke test: estimate, create, list and get against a running API, saying what failed.

    make smoke API_URL=https://abc123.execute-api.eu-west-1.amazonaws.com TOKEN=<JWT> DATASET_ID=<uuid>

DATASET_ID must be a ready dataset of the token's user. Creating a job is real work: the smoke test
creates one "fast" job on the cheapest GPU, with an Idempotency-Key so a retried run creates no other.
Exit status 0 when every step passed, 1 otherwise; one line per step either way.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

GPU = {"type": "V100-32GB", "count": 1}
HYPERPARAMETERS = {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8}


class StepFailed(Exception):
    pass


@dataclass
class Api:
    base_url: str
    token: str
    timeout_s: float = 30

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 - the operator's own API URL
            self.base_url.rstrip("/") + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw or b"null")
            except ValueError:
                return error.code, raw.decode(errors="replace")[:300]
        except (urllib.error.URLError, TimeoutError) as error:
            raise StepFailed(f"could not reach {self.base_url}: {error}") from None


def expect(status: int, body: Any, wanted: int, what: str) -> Any:
    if status == 401:
        raise StepFailed(f"{what}: 401 - the token was refused (expired, wrong user pool or audience?)")
    if status != wanted:
        raise StepFailed(f"{what}: expected {wanted}, got {status}: {json.dumps(body)[:300]}")
    return body["data"]


def run(api: Api, dataset_id: str) -> list[tuple[str, bool, str]]:
    steps: list[tuple[str, bool, str]] = []
    state: dict[str, Any] = {}

    def estimate() -> str:
        body = {"dataset_id": dataset_id, "gpu_config": GPU, "hyperparameters": HYPERPARAMETERS}
        data = expect(*api.call("POST", "/jobs/estimate", body), 200, "estimate")
        state["estimate"] = data["estimated_cost"]
        return f"${data['estimated_cost']} for {data['training_details']['total_steps']} steps"

    def create() -> str:
        body = {
            "dataset_id": dataset_id,
            "preset_id": "fast",
            "gpu_config": GPU,
            "hyperparameters": HYPERPARAMETERS,
            "estimated_cost": state["estimate"],
        }
        key = {"Idempotency-Key": f"smoke-{uuid.uuid4()}"}
        job = expect(*api.call("POST", "/jobs", body, key), 201, "create")
        if job["status"] != "queued":
            raise StepFailed(f"create: the new job is {job['status']!r}, not 'queued'")
        state["job_id"] = job["id"]
        return f"job {job['id']} queued"

    def list_jobs() -> str:
        data = expect(*api.call("GET", "/jobs?limit=100"), 200, "list")
        if state["job_id"] not in [job["id"] for job in data["jobs"]]:
            raise StepFailed("list: the new job is not among the newest 100")
        return f"{data['pagination']['total']} job(s)"

    def get() -> str:
        job = expect(*api.call("GET", f"/jobs/{state['job_id']}"), 200, "get")
        return f"status {job['status']}, dataset {job['dataset']['name']!r}"

    for name, step in [("estimate", estimate), ("create", create), ("list", list_jobs), ("get", get)]:
        try:
            steps.append((name, True, step()))
        except StepFailed as failure:
            steps.append((name, False, str(failure)))
            break  # later steps need this one's result
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--dataset-id", required=True)
    args = parser.parse_args(argv)
    try:
        uuid.UUID(args.dataset_id)
    except ValueError:
        parser.error("--dataset-id must be a UUID")
    steps = run(Api(args.api_url, args.token), args.dataset_id)
    for name, ok, detail in steps:
        print(f"{'ok  ' if ok else 'FAIL'} {name:<9} {detail}")
    passed = len(steps) == 4 and all(ok for _, ok, _ in steps)
    print("smoke test passed" if passed else "smoke test FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
