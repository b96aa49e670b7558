"""Trust-separation evidence: what the credentials agents hold could do to the backups (the only I/O for agents).

One backend per cloud answers two questions about a set of credentials and a target: who they are,
and what they may do to the target's bucket. ``trust_backend`` picks it by the target's type, once,
importing the cloud's SDK only when a target of that type exists. ``exposure`` scans the files an
agent can read for backup credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from drill.config import Credentials, Target, TargetType
from drill.facts import Access, Identity

# Whose credentials can act on a target of each cloud type, as Credentials.provider names them.
PROVIDERS: Mapping[TargetType, str] = {TargetType.S3: "aws", TargetType.GCS: "gcp"}


class TrustBackend(Protocol):
    def identity(self, target: Target, credentials: Credentials) -> Identity:
        """Who the credentials are; raises StorageError when that cannot be learnt."""
        ...

    def access(
        self,
        target: Target,
        credentials: Credentials,
        *,
        snapshot_keys: tuple[str, ...],
    ) -> Access:
        """One answer per destructive permission on the target's bucket, judged on the real backup
        keys ``snapshot_keys``, with the evidence behind it."""
        ...


def trust_backend(target_type: TargetType, environ: Mapping[str, str]) -> TrustBackend:
    """The backend for targets of one cloud type; a filesystem target has none (KeyError)."""
    if target_type not in PROVIDERS:
        raise KeyError(f"a {target_type} target has no cloud identity")
    if target_type is TargetType.S3:
        from drill.trust.aws.access import AwsTrust  # noqa: PLC0415 - boto3 only when an S3 target exists

        return AwsTrust(environ)
    from drill.trust.gcp import GcsTrust  # noqa: PLC0415 - the GCS client is slow to import

    return GcsTrust(environ)
