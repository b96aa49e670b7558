"""Trust evidence on S3: who a set of credentials is, which destructive permissions it holds on the
real backup keys, and what it could become one step away, each answer from the evidence that
settles it.

1. ``iam:SimulatePrincipalPolicy``, called with drill's own credentials for the principal being
   judged (``iam`` asks, ``simulation`` builds the request and reads the answer).
2. Every policy that can grant the principal something, read by drill (``directory`` and
   ``iam_read`` for the account's IAM, ``bucket`` for the bucket policy and ACL, ``owner`` for
   who owns the bucket) and evaluated as AWS does (``statements``, ``conditions``, ``evaluate``):
   a permission nothing grants is denied. ``judge`` adds IAM changes (``escalation``) and the
   roles the principal may assume.
3. Probes of the real keys with the credentials being judged, each naming a version that does not
   exist (``probes``).

``access`` asks them all and combines the answers; ``identity`` says who the credentials are. The
modules that ask AWS import boto3: import them only for S3 targets.
"""
