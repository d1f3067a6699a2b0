"""The layer's shape, which the import contracts (pyproject.toml, `make lint`) do not see: packages by
domain over a platform, a short list of base modules, and package files that import nothing."""

import ast
from pathlib import Path

from tests.paths import REPO_ROOT

LAYER = REPO_ROOT / "shared" / "pipeline"
PLATFORM = {"runtime", "http", "db", "aws"}
DOMAINS = {"catalog", "pricing", "datasets", "jobs", "history", "artifacts", "workers", "outbox", "webhooks"}
DOMAINS |= {"budgets"}


def test_every_package_is_the_platform_or_a_domain() -> None:
    packages = {path.parent.name for path in LAYER.glob("*/__init__.py")}

    assert packages == PLATFORM | DOMAINS


def test_the_base_modules_are_few() -> None:
    base = sorted(path.name for path in LAYER.glob("*.py"))

    assert base == ["__init__.py", "errors.py", "models.py"]


def _holds_code(init: Path) -> bool:
    body = ast.parse(init.read_text()).body
    docstring = body[:1] if body and isinstance(body[0], ast.Expr) else []
    return len(body) > len(docstring)


def test_package_files_hold_no_code_so_importing_one_module_loads_no_other() -> None:
    # A re-export in __init__.py would load a whole package into every cold start that touches it.
    with_code = [str(path.relative_to(LAYER)) for path in LAYER.rglob("__init__.py") if _holds_code(path)]

    assert with_code == []


def test_the_tests_mirror_the_packages() -> None:
    # A package's tests are found from its path: tests/<layer>/<package>/ (the rest test the whole).
    for layer in ("unit", "integration"):
        folders = {
            path.name for path in (REPO_ROOT / "tests" / layer).iterdir() if (path / "__init__.py").exists()
        }
        assert folders - {"local"} <= PLATFORM | DOMAINS, layer
