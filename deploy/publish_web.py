"""Publish the training page: upload web/ to the stack's bucket, write config.json from the stack's
outputs, remove files that are no longer in web/, and invalidate the CloudFront cache.

    make publish-web [STACK_NAME=pipeline-training-jobs]     (after `sam deploy`; AWS credentials as for it)

HTML and config.json are uploaded as no-cache (a new publish shows at once); the other files get a
short max-age, because their names carry no content hash. The bucket is versioned: a bad publish can
be rolled back object by object.
"""

import argparse
import json
import mimetypes
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_s3 import S3Client

WEB_ROOT: Final = Path(__file__).resolve().parent.parent / "web"
CONFIG_KEY: Final = "config.json"
_NO_CACHE: Final = "no-cache"
_SHORT_CACHE: Final = "public, max-age=300"
_CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
REQUIRED_OUTPUTS: Final = (
    "ApiUrl",
    "UserPoolClientId",
    "HostedUiUrl",
    "DatasetsPageUrl",
    "WebBucketName",
    "WebDistributionId",
    "WebUrl",
)


class PublishError(Exception):
    pass


@dataclass(frozen=True)
class Published:
    url: str
    uploaded: list[str]
    removed: list[str]
    invalidation_id: str


def web_config(outputs: dict[str, str]) -> dict[str, Any]:
    """What the page reads from /config.json when deployed (local/web_pages.py serves the local one)."""
    return {
        "apiUrl": outputs["ApiUrl"].rstrip("/"),
        "datasetsUrl": outputs["DatasetsPageUrl"],
        "auth": {
            "kind": "cognito",
            "domain": outputs["HostedUiUrl"].rstrip("/"),
            "clientId": outputs["UserPoolClientId"],
            "scopes": "openid email",
        },
    }


def stack_outputs(cloudformation: "CloudFormationClient", stack_name: str) -> dict[str, str]:
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise PublishError(
            f"stack {stack_name} has no {', '.join(missing)} output: deploy template.yaml first"
        )
    return outputs


def publish(
    s3: "S3Client", cloudfront: "CloudFrontClient", outputs: dict[str, str], web_root: Path = WEB_ROOT
) -> Published:
    bucket = outputs["WebBucketName"]
    files = {
        path.relative_to(web_root).as_posix(): path for path in sorted(web_root.rglob("*")) if path.is_file()
    }
    if CONFIG_KEY in files:
        raise PublishError(f"{web_root / CONFIG_KEY} would hide the stack's settings; remove it")
    for key, path in files.items():
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=_content_type(path),
            CacheControl=_NO_CACHE if path.suffix == ".html" else _SHORT_CACHE,
        )
    s3.put_object(
        Bucket=bucket,
        Key=CONFIG_KEY,
        Body=json.dumps(web_config(outputs), indent=2).encode(),
        ContentType=_CONTENT_TYPES[".json"],
        CacheControl=_NO_CACHE,
    )
    removed = _remove_stale(s3, bucket, keep=set(files) | {CONFIG_KEY})
    invalidation = cloudfront.create_invalidation(
        DistributionId=outputs["WebDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(uuid.uuid4())},
    )
    return Published(
        url=outputs["WebUrl"],
        uploaded=[*files, CONFIG_KEY],
        removed=removed,
        invalidation_id=invalidation["Invalidation"]["Id"],
    )


def _content_type(path: Path) -> str:
    return _CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _remove_stale(s3: "S3Client", bucket: str, keep: set[str]) -> list[str]:
    stale = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
        if item["Key"] not in keep
    ]
    for start in range(0, len(stale), 1000):  # DeleteObjects takes at most 1000 keys
        s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]], "Quiet": True},
        )
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.publish_web", description=__doc__)
    parser.add_argument("--stack-name", required=True)
    args = parser.parse_args(argv)

    import boto3  # only this command needs it

    try:
        outputs = stack_outputs(boto3.client("cloudformation"), args.stack_name)
        published = publish(boto3.client("s3"), boto3.client("cloudfront"), outputs)
    except PublishError as error:
        print(f"publish-web: {error}", file=sys.stderr)
        return 1
    print(f"uploaded {len(published.uploaded)} files, removed {len(published.removed)} stale ones")
    print(f"invalidation {published.invalidation_id}; the page: {published.url}/training/jobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
