"""The locks hold exactly what their inputs ask for, pinned with hashes; the layer is installed from its lock.

tools.lock_check reads each input (*.in), follows its dependencies through the installed packages'
metadata and compares the closure with the lock (*.txt). The mutations below show it notices each way
an input and its lock can drift apart: `make lock` is then what brings them back together.
"""

import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT
from tools import lock_check

ROOT = REPO_ROOT
LAYER_IN, LAYER_LOCK = ROOT / "shared" / "requirements.in", ROOT / "shared" / "requirements.txt"
DEV_IN, DEV_LOCK = ROOT / "requirements-dev.in", ROOT / "requirements-dev.txt"
SAM_IN, SAM_LOCK = ROOT / "requirements-sam.in", ROOT / "requirements-sam.txt"
TOKENIZERS_IN, TOKENIZERS_LOCK = ROOT / "requirements-tokenizers.in", ROOT / "requirements-tokenizers.txt"


def test_the_layer_lock_holds_exactly_the_layers_dependencies_for_python_3_12() -> None:
    assert lock_check.problems(LAYER_IN, LAYER_LOCK, python_version="3.12") == []


def test_the_dev_lock_holds_exactly_what_the_tests_and_tools_need() -> None:
    assert lock_check.problems(DEV_IN, DEV_LOCK) == []


def test_the_sam_cli_lock_holds_exactly_sam_clis_dependencies() -> None:
    # Read with SAM CLI's own virtual environment, where those packages are installed.
    result = subprocess.run(
        [str(ROOT / ".sam-venv" / "bin" / "python"), "-m", "tools.lock_check", str(SAM_IN), str(SAM_LOCK)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_the_tests_run_the_layers_packages_at_the_layer_locks_versions() -> None:
    layer, dev = lock_check.read_lock(LAYER_LOCK), lock_check.read_lock(DEV_LOCK)
    assert {name: dev[name].version for name in layer if name in dev} == {
        name: pin.version for name, pin in layer.items() if name in dev
    }
    # Only what Linux never installs may be missing (tzdata is for Windows).
    assert all(layer[name].marker == "sys_platform == 'win32'" for name in set(layer) - set(dev))


def test_every_locked_package_carries_hashes() -> None:
    for lock in (LAYER_LOCK, DEV_LOCK, SAM_LOCK):
        assert all(pin.hashes > 0 for pin in lock_check.read_lock(lock).values()), lock.name


def test_the_layer_is_installed_from_its_lock_with_hashes_required() -> None:
    makefile = (ROOT / "shared" / "Makefile").read_text()
    assert "--require-hashes --no-deps --requirement requirements.txt" in makefile


def _mutated(tmp_path: Path, old: str, new: str) -> Path:
    text = LAYER_IN.read_text()
    assert old in text
    changed = tmp_path / "requirements.in"
    changed.write_text(text.replace(old, new))
    return changed


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("pydantic==2.14.4", "pydantic==2.14.5", "pydantic==2.14.4 does not satisfy pydantic==2.14.5"),
        ("mangum==0.22.0\n", "mangum==0.22.0\npackaging\n", "packaging (from requirements.in) is not locked"),
        ("mangum==0.22.0\n", "", "mangum is locked but nothing in requirements.in needs it"),
        ("boto3==1.44.8\n", "", "s3transfer is locked but nothing in requirements.in needs it"),
    ],
    ids=["pin-changed", "package-added", "package-removed", "transitive-left-behind"],
)
def test_an_input_that_disagrees_with_its_lock_is_reported(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    found = lock_check.problems(_mutated(tmp_path, old, new), LAYER_LOCK, python_version="3.12")
    assert any(expected in problem for problem in found), found


def test_a_lock_entry_without_hashes_is_reported(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lines = LAYER_LOCK.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("mangum=="))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" "))
    lock.write_text("\n".join([*lines[:start], "mangum==0.22.0", *lines[end:]]) + "\n")
    assert "requirements.txt: mangum has no hash" in lock_check.problems(LAYER_IN, lock, "3.12")


def test_the_tokenizer_lock_holds_exactly_its_inputs_hashed_and_what_they_need_is_in_the_dev_lock() -> None:
    # Locked without dependencies (`make lock` passes --no-deps): two wheels are there for their vocabulary
    # files alone. What the two tokenizer libraries import at run time must come from the dev lock.
    wanted = {req.name.lower(): str(req.specifier) for req in lock_check.read_inputs(TOKENIZERS_IN)}
    locked = lock_check.read_lock(TOKENIZERS_LOCK)

    assert {name: f"=={pin.version}" for name, pin in locked.items()} == wanted
    assert all(pin.hashes >= 1 for pin in locked.values())
    dev = lock_check.read_lock(DEV_LOCK)
    assert {"regex", "requests"} <= set(dev)  # tiktoken's dependencies (sentencepiece has none)
