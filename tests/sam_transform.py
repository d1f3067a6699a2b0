"""Print template.yaml as AWS SAM's transform turns it into CloudFormation (JSON on stdout).

Run with SAM CLI's own interpreter (.sam-venv), where samtranslator is installed. Local code folders
become placeholder S3 URIs, as `sam package` would make them.
"""

import json
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


with open(sys.argv[1]) as source:
    template = yaml_parse(source.read())
for resource in template["Resources"].values():
    properties = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if key in properties:
            properties[key] = "s3://bucket/key"
print(json.dumps(transform(template, {}, _NoManagedPolicies())))
