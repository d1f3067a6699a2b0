"""Does a lock file hold exactly what its input file asks for? Offline: read against installed metadata.

A lock (written by `make lock`) must pin every package its input (*.in) needs, transitive ones included,
each with hashes, at versions the input allows, and nothing else. This reads the input's requirements,
follows their dependencies through the metadata of the packages installed in the running interpreter
(the venv installed from that lock), and compares the closure with the lock. Run it with the venv's
Python: `python -m tools.lock_check INPUT LOCK [--python-version X.Y]`; it prints each problem and exits 1.
"""

import argparse
import re
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


class Locked:
    def __init__(self, version: str, marker: str | None) -> None:
        self.version = Version(version)
        self.marker = marker
        self.hashes = 0


def read_lock(path: Path) -> dict[str, Locked]:
    """{canonical name: pin} from a hashed requirements file as uv or pip-compile writes it."""
    locked: dict[str, Locked] = {}
    current: Locked | None = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if match := _PIN.match(stripped):
            current = locked[canonicalize_name(match[1])] = Locked(match[2], match[3])
        elif stripped.startswith("--hash=sha256:") and current is not None:
            current.hashes += 1
    return locked


def read_inputs(path: Path) -> Iterator[Requirement]:
    """The requirements of an input file, following its `-r` includes (`-c` constraints are not inputs)."""
    for line in path.read_text().splitlines():
        stripped = line.split("#", 1)[0].strip()
        if not stripped or stripped.startswith("-c"):
            continue
        if stripped.startswith("-r"):
            yield from read_inputs(path.parent / stripped[2:].strip())
            continue
        yield Requirement(stripped)


def problems(inputs: Path, lock: Path, python_version: str | None = None) -> list[str]:
    environment: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
    if python_version:
        environment |= {"python_version": python_version, "python_full_version": f"{python_version}.0"}
    locked = read_lock(lock)
    found: list[str] = []
    for name, pin in sorted(locked.items()):
        if pin.hashes == 0:
            found.append(f"{lock.name}: {name} has no hash")

    needed: set[str] = set()
    pending = [(requirement, "") for requirement in read_inputs(inputs)]
    for requirement, _ in pending:
        name = canonicalize_name(requirement.name)
        wanted = locked.get(name)
        if wanted is None:
            found.append(f"{lock.name}: {requirement} (from {inputs.name}) is not locked")
        elif not requirement.specifier.contains(wanted.version, prereleases=True):
            found.append(
                f"{lock.name}: {name}=={wanted.version} does not satisfy {requirement} in {inputs.name}"
            )
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate(environment | {"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        first_visit = name not in needed
        needed.add(name)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            found.append(f"{name} is not installed here: cannot follow its dependencies")
            continue
        for extra_name in [""] * first_visit + sorted(requirement.extras):
            for dependency in distribution.requires or []:
                pending.append((Requirement(dependency), extra_name))

    applicable = {
        name
        for name, pin in locked.items()
        if pin.marker is None or _marker_holds(name, pin.marker, environment)
    }
    for name in sorted(applicable - needed):
        found.append(f"{lock.name}: {name} is locked but nothing in {inputs.name} needs it")
    for name in sorted(needed - set(locked)):
        if not any(name in problem for problem in found):
            found.append(f"{lock.name}: {name} is needed but not locked")
    return found


def _marker_holds(name: str, marker: str, environment: dict[str, str]) -> bool:
    parsed = Requirement(f"{name}; {marker}").marker
    return parsed is None or parsed.evaluate(environment)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path)
    parser.add_argument("lock", type=Path)
    parser.add_argument("--python-version", help="evaluate markers for this Python (X.Y)")
    args = parser.parse_args()
    found = problems(args.inputs, args.lock, args.python_version)
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
