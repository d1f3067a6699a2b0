"""The page deployed: a private bucket behind CloudFront that maps page paths as the local stack does,
a Cognito client for the hosted UI's code grant, CORS for the page's origin only, and the publish
command that uploads web/ with a config.json made from the stack's outputs."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from mypy_boto3_cloudfront import CloudFrontClient
from mypy_boto3_s3 import S3Client

from deploy import publish_web
from local.sam_template import load_template
from local.web_pages import PAGE_FILES, page_file
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT
RESOURCES: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
NODE = shutil.which("node")


# ---- CloudFront serves the same pages at the same paths ------------------------------------------


def _viewer_request(paths: list[str]) -> list[dict[str, Any]]:
    """Run the template's CloudFront Function under Node.js for each path."""
    code = RESOURCES["WebPathRewrite"]["Properties"]["FunctionCode"]
    harness = code + (
        "\nconst paths = JSON.parse(process.argv[1]);"
        "\nconsole.log(JSON.stringify(paths.map((uri) => handler({request: {uri: uri, headers: {}}}))));"
    )
    assert NODE is not None, "Node.js runs the CloudFront Function in this test; install nodejs"
    result = subprocess.run(
        [NODE, "-e", harness, json.dumps(paths)], capture_output=True, text=True, timeout=30, check=True
    )
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


PATHS = [
    "/training/configure",
    "/training/datasets",
    "/training/jobs",
    "/training/jobs/0d9ff9a4-62a5-4d0b-a1a4-0b3f4f5b8f10",
    "/training/signin",
    "/training/jobs/a/b",
    "/training/configure/",
    "/training/nothing",
    "/assets/configure.js",
    "/config.json",
    "/404.html",
]


def test_cloudfront_maps_every_path_to_the_file_the_local_stack_serves() -> None:
    answers = _viewer_request(PATHS)

    for path, answer in zip(PATHS, answers, strict=True):
        file = page_file(path)
        expected_uri = f"/{file}" if file is not None else path  # not a page: the object itself
        assert answer["uri"] == expected_uri, path
    assert {page_file(p) for p in PATHS} - {None} == set(PAGE_FILES.values())
    for file in PAGE_FILES.values():
        assert (ROOT / "web" / file).is_file(), file


def test_cloudfront_redirects_the_root_to_the_jobs_list() -> None:
    (answer,) = _viewer_request(["/"])

    assert answer["statusCode"] == 302
    assert answer["headers"]["location"]["value"] == "/training/jobs"


# ---- the template ---------------------------------------------------------------------------------


def test_web_bucket_is_private_and_read_only_by_this_distribution() -> None:
    bucket = RESOURCES["WebBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements = RESOURCES["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "${WebDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_distribution_serves_https_only_with_the_path_function_and_security_headers() -> None:
    config = RESOURCES["WebDistribution"]["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    (association,) = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert association["FunctionARN"] == {"Fn::GetAtt": "WebPathRewrite.FunctionMetadata.FunctionARN"}
    assert config["Origins"][0]["OriginAccessControlId"] == {"Fn::GetAtt": "WebOriginAccessControl.Id"}
    headers = RESOURCES["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][0]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix} ${HostedUi}" in csp
    assert (ROOT / "web" / config["CustomErrorResponses"][0]["ResponsePagePath"].lstrip("/")).is_file()


def test_api_allows_the_page_origin_and_the_headers_the_page_sends() -> None:
    cors = RESOURCES["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${WebDistribution.DomainName}"}]
    assert set(cors["AllowHeaders"]) == {"authorization", "content-type", "idempotency-key"}
    assert set(cors["ExposeHeaders"]) == {"idempotent-replayed", "retry-after", "x-request-id"}


def test_user_pool_client_signs_in_through_the_hosted_ui_with_the_code_grant() -> None:
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False  # a browser cannot keep a secret: PKCE instead
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    signin = {"Fn::Sub": "https://${WebDistribution.DomainName}/training/signin"}
    assert client["CallbackURLs"] == [signin]
    assert client["LogoutURLs"] == [signin]
    assert RESOURCES["UserPoolDomain"]["Properties"]["Domain"] == {"Fn::Ref": "HostedUiDomainPrefix"}


# ---- make publish-web -----------------------------------------------------------------------------


@pytest.fixture
def site() -> tuple[S3Client, CloudFrontClient, dict[str, str]]:
    """A bucket and a distribution in moto, and the outputs a deployed stack would have."""
    s3 = boto3.client("s3", region_name="us-east-1")
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    bucket = f"web-{id(s3)}"
    s3.create_bucket(Bucket=bucket)
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": bucket,
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "web",
                        "DomainName": f"{bucket}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )["Distribution"]
    outputs = {
        "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/",
        "UserPoolClientId": "4tqclientid",
        "HostedUiUrl": "https://pipeline-prod.auth.eu-west-1.amazoncognito.com",
        "DatasetsPageUrl": "https://app.pipeline.example/datasets",
        "WebBucketName": bucket,
        "WebDistributionId": distribution["Id"],
        "WebUrl": f"https://{distribution['DomainName']}",
    }
    return s3, cloudfront, outputs


def test_publish_uploads_every_file_with_its_type_and_caching(
    site: tuple[S3Client, CloudFrontClient, dict[str, str]],
) -> None:
    s3, cloudfront, outputs = site

    published = publish_web.publish(s3, cloudfront, outputs)

    web_files = sorted(
        p.relative_to(ROOT / "web").as_posix() for p in (ROOT / "web").rglob("*") if p.is_file()
    )
    assert published.uploaded == [*web_files, "config.json"]
    bucket = outputs["WebBucketName"]
    page = s3.get_object(Bucket=bucket, Key="training/configure.html")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    assert page["Body"].read() == (ROOT / "web/training/configure.html").read_bytes()
    script = s3.get_object(Bucket=bucket, Key="assets/configure.js")
    assert (script["ContentType"], script["CacheControl"]) == (
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    )
    assert s3.get_object(Bucket=bucket, Key="assets/app.css")["ContentType"] == "text/css; charset=utf-8"


def test_published_config_points_the_page_at_the_stacks_api_and_hosted_ui(
    site: tuple[S3Client, CloudFrontClient, dict[str, str]],
) -> None:
    s3, cloudfront, outputs = site

    publish_web.publish(s3, cloudfront, outputs)

    stored = s3.get_object(Bucket=outputs["WebBucketName"], Key="config.json")
    assert stored["CacheControl"] == "no-cache"
    assert json.loads(stored["Body"].read()) == {
        "apiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "datasetsUrl": "https://app.pipeline.example/datasets",
        "auth": {
            "kind": "cognito",
            "domain": "https://pipeline-prod.auth.eu-west-1.amazoncognito.com",
            "clientId": "4tqclientid",
            "scopes": "openid email",
        },
    }


def test_publish_removes_files_no_longer_in_web_and_invalidates_the_cache(
    site: tuple[S3Client, CloudFrontClient, dict[str, str]],
) -> None:
    s3, cloudfront, outputs = site
    s3.put_object(Bucket=outputs["WebBucketName"], Key="assets/old-page.js", Body=b"//")

    published = publish_web.publish(s3, cloudfront, outputs)

    assert published.removed == ["assets/old-page.js"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=outputs["WebBucketName"])["Contents"]}
    assert "assets/old-page.js" not in keys
    invalidations = cloudfront.list_invalidations(DistributionId=outputs["WebDistributionId"])
    assert [i["Id"] for i in invalidations["InvalidationList"]["Items"]] == [published.invalidation_id]


def test_publish_refuses_a_config_json_in_web(
    site: tuple[S3Client, CloudFrontClient, dict[str, str]], tmp_path: Path
) -> None:
    s3, cloudfront, outputs = site
    (tmp_path / "config.json").write_text("{}")

    with pytest.raises(publish_web.PublishError, match=r"config\.json would hide the stack's settings"):
        publish_web.publish(s3, cloudfront, outputs, web_root=tmp_path)


def test_publish_reads_the_stacks_outputs_and_names_any_that_are_missing() -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    outputs = {name: {"Value": f"value-of-{name}"} for name in publish_web.REQUIRED_OUTPUTS}
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    cloudformation.create_stack(StackName="complete", TemplateBody=json.dumps(template))
    del template["Outputs"]["HostedUiUrl"]
    cloudformation.create_stack(StackName="old", TemplateBody=json.dumps(template))

    assert publish_web.stack_outputs(cloudformation, "complete")["WebUrl"] == "value-of-WebUrl"
    with pytest.raises(publish_web.PublishError, match="stack old has no HostedUiUrl output"):
        publish_web.stack_outputs(cloudformation, "old")
