"""`make bench` in its tiny mode, so the harness cannot rot. It asserts what was measured, never how fast."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO_ROOT

ROOT = REPO_ROOT
FUNCTIONS = {
    "estimate",
    "create_job",
    "list_jobs",
    "get_job",
    "get_dataset",
    "job_events",
    "job_metrics",
    "job_checkpoints",
    "job_download",
    "cancel_job",
    "list_webhooks",
    "list_webhook_deliveries",
    "rotate_webhook_secret",
    "get_account_limits",
    "account_usage",
    "create_dataset",
    "list_datasets",
}


def test_tiny_benchmark_run_produces_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_QUEUE_URL", "AWS_ENDPOINT_URL")}
    if "DATABASE_URL" in env:
        env.pop("DATABASE_URL")  # the test run's database is the application role's: the bench needs its own

    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--tiny", "--output", str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert set(figures["cold_start"]) == FUNCTIONS | {"catalog"}
    assert set(figures["warm"]) == FUNCTIONS
    for cold in figures["cold_start"].values():
        assert cold["precompiled"]["median"] > 0
        assert cold["floor"]["median"] > 0
    assert not any(
        figures["cold_start"][name]["boto3_imported"]
        for name in ("estimate", "list_jobs", "get_job", "catalog", "list_datasets")
    )
    # Validation streamed a whole generated file, read to its end, in bounded memory.
    (validated,) = figures["validation"].values()
    assert 1.5 * 1024 * 1024 < validated["bytes"] <= 2 * 1024 * 1024
    # 4,000 examples of 446 bytes: the whole lines that fit in 2 MiB.
    assert (validated["errors"], validated["examples"]) == (0, 4000)
    assert validated["mb_per_s"] > 0
    assert figures["warm"]["create_job"]["round_trips"] == 3
    assert figures["list_scaling"]["100k-job user, page 1000 by cursor"]["total"] == 12_000
    assert set(figures["http"]) == {"1 clients", "4 clients", "16 clients"}
    assert "Targets" in result.stdout
