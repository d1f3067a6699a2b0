"""Reads template.yaml the way the local gateway needs it: functions, their handlers and HTTP routes.

The template stays the single source of truth: a route added there is served locally with no other
change. Intrinsic functions (!Ref, !Sub, ...) are kept as {"Fn::<name>": value} mappings.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that accepts CloudFormation's short-form tags."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506 - safe subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


@dataclass(frozen=True)
class HttpRoute:
    method: str  # GET, POST, ... or ANY
    path: str  # /jobs/{job_id}; "$default" for the catch-all route

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping: which queue (its logical id) feeds the function, and how."""

    queue: str
    batch_size: int = 10
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler_module: str
    handler_function: str
    timeout_s: int
    memory_mb: int
    routes: tuple[HttpRoute, ...]
    environment: dict[str, str] = field(default_factory=dict)
    # Variables set from a template parameter (DATABASE_SECRET_ARN: !Ref WorkerDatabaseSecretArn):
    # the local stack gives each the local stand-in of what that parameter names.
    parameter_variables: dict[str, str] = field(default_factory=dict)
    schedules: tuple[str, ...] = ()  # EventBridge schedule expressions, e.g. "rate(1 minute)"
    queues: tuple[SqsSource, ...] = ()


def _literal_variables(variables: dict[str, Any] | None) -> dict[str, str]:
    # Values computed by CloudFormation (!Ref, !Sub ...) have no local meaning; the stack sets those.
    return {name: str(value) for name, value in (variables or {}).items() if not isinstance(value, dict)}


def _parameter_variables(variables: dict[str, Any] | None) -> dict[str, str]:
    return {
        name: str(value["Fn::Ref"])
        for name, value in (variables or {}).items()
        if isinstance(value, dict) and isinstance(value.get("Fn::Ref"), str)
    }


def _queue_logical_id(queue: Any) -> str:
    # Queue: !GetAtt JobsQueue.Arn -> {"Fn::GetAtt": "JobsQueue.Arn"} (or ["JobsQueue", "Arn"])
    target = queue.get("Fn::GetAtt") if isinstance(queue, dict) else None
    if isinstance(target, str):
        return target.split(".")[0]
    if isinstance(target, list) and target:
        return str(target[0])
    raise ValueError(f"SQS event source {queue!r}: expected !GetAtt <Queue>.Arn")


def template_functions(template_path: Path) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function with HttpApi, Schedule or SQS events (paths resolved from the
    template)."""
    template = load_template(template_path)
    globals_ = template.get("Globals", {}).get("Function", {})
    global_variables = globals_.get("Environment", {}).get("Variables")
    global_env = _literal_variables(global_variables)
    specs = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        routes = tuple(
            HttpRoute(
                method=str(event["Properties"].get("Method", "ANY")).upper(),
                path=str(event["Properties"].get("Path", "$default")),
            )
            for event in properties.get("Events", {}).values()
            if event.get("Type") == "HttpApi"
        )
        schedules = tuple(
            str(event["Properties"]["Schedule"])
            for event in properties.get("Events", {}).values()
            if event.get("Type") in ("Schedule", "ScheduleV2")
        )
        queues = tuple(
            SqsSource(
                queue=_queue_logical_id(event["Properties"]["Queue"]),
                batch_size=int(event["Properties"].get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures"
                in event["Properties"].get("FunctionResponseTypes", []),
            )
            for event in properties.get("Events", {}).values()
            if event.get("Type") == "SQS"
        )
        if not routes and not schedules and not queues:
            continue
        module, _, function = str(properties["Handler"]).rpartition(".")
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=(template_path.parent / str(properties["CodeUri"])).resolve(),
                handler_module=module,
                handler_function=function,
                timeout_s=int(properties.get("Timeout", globals_.get("Timeout", 3))),
                memory_mb=int(properties.get("MemorySize", globals_.get("MemorySize", 128))),
                routes=routes,
                schedules=schedules,
                queues=queues,
                environment=global_env
                | _literal_variables(properties.get("Environment", {}).get("Variables")),
                parameter_variables=_parameter_variables(global_variables)
                | _parameter_variables(properties.get("Environment", {}).get("Variables")),
            )
        )
    return specs
