"""Where the local stack keeps its state: keys, the embedded database, seeds. Git-ignored.

`.local/` at the repository root, or PIPELINE_STATE_DIR (the tests use a temporary folder).
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    path = Path(os.environ.get("PIPELINE_STATE_DIR") or REPO_ROOT / ".local")
    path.mkdir(parents=True, exist_ok=True)
    return path
