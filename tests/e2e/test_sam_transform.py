"""template.yaml as SAM transforms it (SAM CLI's own translator, in its virtual environment)."""

import json
import subprocess
from typing import Any

from tests.paths import REPO_ROOT
from tests.template_resources import FUNCTIONS, HTTP_FUNCTIONS

ROOT = REPO_ROOT


def _transformed() -> dict[str, Any]:
    result = subprocess.run(
        [
            str(ROOT / ".sam-venv" / "bin" / "python"),
            str(ROOT / "tests" / "sam_transform.py"),
            "template.yaml",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    transformed: dict[str, Any] = json.loads(result.stdout)
    return transformed


def test_http_functions_have_snapstart_on_their_published_alias_and_the_routes_call_that_alias() -> None:
    resources = _transformed()["Resources"]
    for name in HTTP_FUNCTIONS:
        properties = resources[name]["Properties"]
        assert properties["SnapStart"] == {
            "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
        }
        assert resources[f"{name}Aliaslive"]["Type"] == "AWS::Lambda::Alias"
        permissions = [
            r["Properties"]["FunctionName"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Permission"
            and "apigateway" in r["Properties"]["Principal"]
            and json.dumps(r["Properties"]["FunctionName"]).find(name) >= 0
        ]
        assert permissions == [{"Ref": f"{name}Aliaslive"}], name
    body = json.dumps(resources["HttpApi"]["Properties"]["Body"])
    for name in HTTP_FUNCTIONS:
        assert f"${{{name}Aliaslive}}" in body, name
    others = set(FUNCTIONS) - set(HTTP_FUNCTIONS)
    assert not any("SnapStart" in resources[name]["Properties"] for name in others)


def test_the_dataset_validator_takes_one_upload_at_a_time_on_its_own_layer() -> None:
    resources = _transformed()["Resources"]
    (mapping,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and r["Properties"]["FunctionName"] == {"Ref": "DatasetValidatorFunction"}
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["DatasetUploadsQueue", "Arn"]}
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (1, ["ReportBatchItemFailures"])
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}
    # SAM names each layer version after a hash of its content: SharedLayer<hash>, TokenizersLayer<hash>.
    layers = [layer["Ref"] for layer in resources["DatasetValidatorFunction"]["Properties"]["Layers"][:2]]
    assert [layer.rstrip("0123456789abcdef") for layer in layers] == ["SharedLayer", "TokenizersLayer"]
    assert resources[layers[1]]["Type"] == "AWS::Lambda::LayerVersion"
    attached = [
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and {"Ref": layers[1]} in r["Properties"].get("Layers", [])
    ]
    assert attached == ["DatasetValidatorFunction"]
