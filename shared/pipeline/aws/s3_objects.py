"""Reading and deleting objects of a bucket (the dataset validator's and delete's S3 client).

Created once per execution environment; locally AWS_ENDPOINT_URL points it at moto's S3.
"""

from collections.abc import Iterator
from typing import Final

import boto3
from pydantic import Field

from pipeline.runtime.settings import EnvSettings

# Read in pieces of this size: the validator's memory stays bounded whatever the object's size.
CHUNK_BYTES: Final = 1024 * 1024


class S3ObjectsSettings(EnvSettings):
    aws_region: str = Field(alias="AWS_REGION", min_length=1)


class ObjectMissing(LookupError):
    """No such object (any more): deleted, or never uploaded."""


class ObjectStoreFailed(RuntimeError):
    """S3 could not be reached, or refused the request."""


class S3Objects:
    def __init__(self, settings: S3ObjectsSettings, *, bucket: str) -> None:
        self.bucket = bucket
        self._client = boto3.session.Session(region_name=settings.aws_region).client("s3")

    def release(self) -> None:
        self._client.close()

    def chunks(self, key: str) -> Iterator[bytes]:
        """The object's bytes, streamed in pieces of CHUNK_BYTES; ObjectMissing when it does not exist."""
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self._client.exceptions.NoSuchKey:
            raise ObjectMissing(key) from None
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        """Delete the object (deleting one that does not exist succeeds: S3 answers 204 either way)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as failed:
            raise ObjectStoreFailed(type(failed).__name__) from failed
