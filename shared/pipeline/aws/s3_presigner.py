"""Presigned requests of a bucket's objects: GETs of the artifacts (job downloads), POST forms of the
datasets (uploads).

Signing is local: SigV4 over the function's own credentials, no call to S3. The URL grants what the
function's role may do (s3:GetObject under users/*), for that one key, until it expires. The client is
created once per execution environment; locally AWS_ENDPOINT_URL points it at moto's S3.
"""

import boto3
from botocore.config import Config
from pydantic import Field

from pipeline.runtime.settings import EnvSettings

# SigV4 always (the only signature S3 accepts in newer regions); the regional endpoint, so a URL works
# at once after a bucket is created (the global endpoint redirects for a while).
_CONFIG = Config(
    signature_version="s3v4", s3={"addressing_style": "auto", "us_east_1_regional_endpoint": "regional"}
)


class PresignerSettings(EnvSettings):
    aws_region: str = Field(alias="AWS_REGION", min_length=1)


class S3Presigner:
    """Presigned GETs of one bucket's objects."""

    def __init__(self, settings: PresignerSettings, *, bucket: str) -> None:
        self.bucket = bucket
        self._client = boto3.session.Session(region_name=settings.aws_region).client("s3", config=_CONFIG)

    def release(self) -> None:
        """Close pooled connections before a SnapStart snapshot (signing opens none, but a client may)."""
        self._client.close()

    def download_url(self, key: str, *, file_name: str, expires_in: int) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{file_name}"',
            },
            ExpiresIn=expires_in,
            HttpMethod="GET",
        )

    def upload_form(self, key: str, *, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str]]:
        """A presigned POST for exactly `key`, of 1 to max_bytes bytes (the policy's content-length-range:
        S3 refuses anything else), until it expires: the form's URL and its fields."""
        form = self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return str(form["url"]), {name: str(value) for name, value in form["fields"].items()}
