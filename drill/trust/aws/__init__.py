"""Trust evidence on S3: who a set of credentials is, and which destructive permissions it holds on
a backup bucket, each answered from the strongest source that can answer it.

1. ``iam:SimulatePrincipalPolicy``, called with drill's own credentials (the target's) for the
   principal being judged, the bucket policy passed in as the resource policy where AWS simulates
   one (``iam`` asks, ``simulation`` builds the request and reads the answer).
2. The bucket policy and ACL, read with drill's credentials (``bucket``): an unconditional Deny
   settles a permission in any account, and another account can act only where they grant it
   something (``policy``).
3. Probes with the credentials being judged, each of a key that does not exist (``probes``).

``access`` asks all three and keeps, per permission, the strongest answer; ``identity`` says who
the credentials are. The modules that ask AWS import boto3: import them only for S3 targets.
"""
