"""What drill's own credentials can read of a backup bucket: its policy, its ACL and its versioning.

Each read that fails becomes one of the caller's ``gaps``, saying which permission drill lacked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import client
from drill.config import Target
from drill.trust.aws.codes import code_of, status_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

UNREAD = "unread"  # versioning status that could not be read; S3's own are None, Enabled, Suspended


@dataclass(frozen=True)
class Documents:
    """What drill's credentials could read of the bucket; None where they could not."""

    policy: dict[str, Any] | None  # {} when the bucket has no policy
    policy_text: str | None
    acl_grants: list[Any] | None
    owner_id: str | None
    versioning: str | None  # None: never versioned; UNREAD: unknown


def read_bucket(session: boto3.Session, target: Target, bucket: str, gaps: list[str]) -> Documents:
    reader: S3Client = client(session, "s3", target.endpoint_url, target.region, max_attempts=2)
    try:
        policy, policy_text = _bucket_policy(reader, bucket, gaps)
        acl_grants: list[Any] | None = None
        owner_id: str | None = None
        try:
            answer = reader.get_bucket_acl(Bucket=bucket)
            acl_grants = list(answer.get("Grants", []))
            owner_id = answer.get("Owner", {}).get("ID")
        except ClientError as error:
            gaps.append(
                f"s3:GetBucketAcl on {bucket} failed for drill's credentials: {status_of(error)}; "
                "grant drill s3:GetBucketAcl so that ACL grants to other accounts can be ruled out."
            )
        except (BotoCoreError, ResponseParserError) as error:
            gaps.append(f"s3:GetBucketAcl on {bucket} failed: {type(error).__name__}.")
        try:
            versioning: str | None = reader.get_bucket_versioning(Bucket=bucket).get("Status")
        except (ClientError, BotoCoreError, ResponseParserError):
            versioning = UNREAD  # the posture checks report why; here it only keeps the probes careful
    finally:
        reader.close()
    return Documents(policy, policy_text, acl_grants, owner_id, versioning)


def _bucket_policy(
    reader: S3Client, bucket: str, gaps: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    try:
        text = reader.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        if code_of(error) == "NoSuchBucketPolicy":
            return {}, None
        gaps.append(
            f"s3:GetBucketPolicy on {bucket} failed for drill's credentials: {status_of(error)}; "
            "grant drill s3:GetBucketPolicy so that the bucket policy can be weighed."
        )
        return None, None
    except (BotoCoreError, ResponseParserError) as error:
        gaps.append(f"s3:GetBucketPolicy on {bucket} failed: {type(error).__name__}.")
        return None, None
    try:
        policy = json.loads(text)
    except ValueError:
        gaps.append(f"The bucket policy of {bucket} is not valid JSON.")
        return None, None
    if not isinstance(policy, dict):
        gaps.append(f"The bucket policy of {bucket} is not a JSON object.")
        return None, None
    return policy, text
