"""template.yaml, loaded once for the tests that read it."""

from pathlib import Path
from typing import Any

from local.sam_template import load_template

ROOT = Path(__file__).resolve().parent.parent

TEMPLATE: dict[str, Any] = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
HTTP_FUNCTIONS = {
    name: r
    for name, r in FUNCTIONS.items()
    if any(e["Type"] == "HttpApi" for e in r["Properties"].get("Events", {}).values())
}
