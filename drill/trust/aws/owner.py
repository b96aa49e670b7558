"""Who owns a backup bucket, read rather than assumed: every cross-account argument rests on it.

1. ``ExpectedBucketOwner``: S3 refuses a request whose expected owner is not the bucket's (403).
   drill first sends a made-up account: an endpoint that accepts it ignores the parameter (moto
   5.2.5 does, measured), and then nothing is learnt this way. Otherwise each candidate account
   (the configured ``account``, drill's own, the agent's) is tried with a read.
2. The bucket ACL's owner: the canonical user id of the owning account; when it is the id drill's
   own credentials list buckets under (``ListBuckets``), the bucket is in drill's account. A
   different id proves nothing (moto gives one account two ids, measured), so it is never used to
   conclude "another account".
3. The configured ``account``, taken as the operator's word and said to be so.

Otherwise the owner is unknown, and no answer leans on "another account".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import client
from drill.config import Target

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MADE_UP_ACCOUNT = "000000000000"
_FAILURES = (ClientError, BotoCoreError, ResponseParserError)


@dataclass(frozen=True)
class Owner:
    account: str | None
    evidence: str  # how it was established, or why it is unknown


def _accepts(s3: S3Client, bucket: str, account: str) -> bool | None:
    """Whether a read expecting ``account`` as the owner succeeds; None when it failed otherwise."""
    try:
        s3.get_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        return False if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403 else None
    except (BotoCoreError, ResponseParserError):
        return None
    return True


def bucket_owner(
    session: boto3.Session,
    target: Target,
    bucket: str,
    *,
    acl_owner_id: str | None,
    drill_account: str | None,
    candidates: Sequence[str],
    notes: list[str],
) -> Owner:
    """The owner's account and how it was learnt; disagreements with the config go to ``notes``."""
    s3: S3Client = client(session, "s3", target.endpoint_url, target.region, max_attempts=2)
    try:
        owner = _expected_owner(s3, bucket, candidates) or _canonical_owner(s3, acl_owner_id, drill_account)
    finally:
        s3.close()
    if owner is not None:
        if target.account and target.account != owner.account:
            notes.append(
                f"{target.name} names account {target.account}, but the bucket belongs to {owner.account} "
                f"({owner.evidence}); drill judges it as {owner.account}'s."
            )
        return owner
    if target.account:
        return Owner(target.account, "the configured account (the bucket's owner could not be read)")
    return Owner(
        None,
        "the bucket's owner could not be read and no account is configured, so no permission is "
        "ruled out for being in another account",
    )


def _expected_owner(s3: S3Client, bucket: str, candidates: Sequence[str]) -> Owner | None:
    if _accepts(s3, bucket, _MADE_UP_ACCOUNT) is not False:
        return None  # the endpoint ignores ExpectedBucketOwner, or the read fails anyway
    for account in dict.fromkeys(candidates):
        if _accepts(s3, bucket, account):
            return Owner(account, "S3 accepted it as ExpectedBucketOwner")
    return None


def _canonical_owner(s3: S3Client, acl_owner_id: str | None, drill_account: str | None) -> Owner | None:
    if acl_owner_id is None or drill_account is None:
        return None
    try:
        own_id = s3.list_buckets().get("Owner", {}).get("ID")
    except _FAILURES:
        return None
    if own_id == acl_owner_id:
        return Owner(drill_account, "the bucket ACL's owner is drill's own account")
    return None
