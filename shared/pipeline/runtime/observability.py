"""Powertools Logger, Metrics and Tracer, created once per execution environment.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE
(set in template.yaml), with defaults so local runs and tests need no extra variables.
"""

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "training-jobs-api")

logger = Logger(service=SERVICE)
# Read-only endpoints emit no business metric; Powertools would warn about that on every request.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Pipeline"))
# Patch nothing automatically: patch_all would import every supported client library (botocore
# included) into functions that never use them.
tracer = Tracer(service=SERVICE, patch_modules=[])
