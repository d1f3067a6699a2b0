"""template.yaml agrees with the code (each app's routes) and passes cfn-lint."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.routing import Route

from tests.paths import REPO_ROOT
from tests.template_resources import HTTP_FUNCTIONS

ROOT = REPO_ROOT


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        # cfn-lint's console script sits beside the interpreter running the tests (the venv's bin/).
        [str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(HTTP_FUNCTIONS))
def test_template_routes_are_exactly_the_apps_routes(name: str) -> None:
    properties = HTTP_FUNCTIONS[name]["Properties"]
    assert properties["Handler"] == "app.lambda_handler"
    module = importlib.import_module(properties["CodeUri"].strip("/").replace("/", ".") + ".app")
    app_routes = {
        (method, route.path)
        for route in module.app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    template_routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for event in properties["Events"].values()
        if event["Type"] == "HttpApi"
    }
    assert template_routes == app_routes
