"""The docs name only files that exist: a path in README.md or docs/ that a move or a rename left
behind fails here (MkDocs' strict build checks links, not the paths written in the text)."""

import re
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# A repository path: one of the top folders, then a file with an extension (globs and <name> left out).
PATH = re.compile(
    r"(?<![\w./-])((?:shared|functions|tests|local|tools|bench|deploy|web|schemas|events|docs)/[\w./-]*\.\w+)\b"
)
LAYER_PATH = re.compile(
    r"`(?:pipeline/)?((?:runtime|http|db|aws|catalog|pricing|datasets|jobs|history|artifacts|workers"
    r"|outbox|webhooks)/\w+\.py)\b"
)


def _named_paths(text: str) -> set[str]:
    return {path for path in PATH.findall(text) if "*" not in path and "<" not in path}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_file_a_page_names_exists(page: Path) -> None:
    text = page.read_text()

    missing = sorted(path for path in _named_paths(text) if not (REPO_ROOT / path).exists())
    missing += sorted(
        path for path in LAYER_PATH.findall(text) if not (REPO_ROOT / "shared" / "pipeline" / path).exists()
    )

    assert missing == []
