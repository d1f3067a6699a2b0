"""Where the tests find the repository's files, wherever a test module sits."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
