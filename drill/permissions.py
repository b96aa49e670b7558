"""The destructive permissions drill asks about, per provider, and what each would let a holder do.

Shared by the evidence collectors (which ask the provider about exactly these) and the trust
checks (which judge the answers against the bucket's protection). Reading is never destructive.
"""

from __future__ import annotations

from collections.abc import Mapping

S3_DESTRUCTIVE: Mapping[str, str] = {
    "s3:DeleteObject": "delete objects (on a versioned bucket this adds delete markers)",
    "s3:DeleteObjectVersion": "delete object versions permanently",
    "s3:PutObject": "overwrite objects",
    "s3:BypassGovernanceRetention": "override GOVERNANCE-mode locks",
    "s3:PutObjectRetention": "change object retention",
    "s3:PutObjectLegalHold": "remove legal holds",
    "s3:PutBucketVersioning": "suspend versioning",
    "s3:PutLifecycleConfiguration": "write lifecycle rules that expire backups",
    "s3:PutBucketPolicy": "rewrite the bucket policy (and so grant itself anything else)",
    "s3:DeleteBucketPolicy": "remove the bucket policy",
    "s3:PutBucketObjectLockConfiguration": "change the bucket's default Object Lock retention",
    "s3:DeleteBucket": "delete the bucket",
    "s3:PutBucketAcl": "rewrite the bucket ACL (and so grant its own account or anyone write access)",
}

# Permissions that act on objects; the rest act on the bucket's configuration.
S3_OBJECT_PERMISSIONS = frozenset(
    {
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObject",
        "s3:BypassGovernanceRetention",
        "s3:PutObjectRetention",
        "s3:PutObjectLegalHold",
    }
)

GCS_DESTRUCTIVE: Mapping[str, str] = {
    "storage.objects.delete": "delete objects",
    "storage.objects.create": "overwrite objects",
    "storage.objects.update": "change object holds and object retention",
    "storage.buckets.update": "change the retention policy, lifecycle rules, versioning and soft delete",
    "storage.buckets.delete": "delete the bucket",
    "storage.buckets.setIamPolicy": "change who may access the bucket (and so grant itself anything else)",
}

# Permissions that act on the bucket's configuration: no request of theirs is harmless to probe.
S3_BUCKET_CONFIGURATION = tuple(
    permission for permission in S3_DESTRUCTIVE if permission not in S3_OBJECT_PERMISSIONS
)
