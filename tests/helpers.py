"""Targets pointed at the test emulators, with credentials passed the way drill passes them."""

from __future__ import annotations

from typing import Any

from drill.config import Credentials, Target, TargetType

# Handed to stores as their ``environ``: the keys never touch os.environ.
AWS_ENVIRON = {"DRILL_TEST_AWS_KEY_ID": "testing", "DRILL_TEST_AWS_SECRET": "testing"}
AWS_CREDENTIALS = Credentials(
    access_key_id_env="DRILL_TEST_AWS_KEY_ID", secret_access_key_env="DRILL_TEST_AWS_SECRET"
)


def make_target(type: TargetType = TargetType.S3, **overrides: Any) -> Target:
    """A target named ``vault`` on bucket ``backups``: moto-ready keys for S3, anonymous for GCS."""
    credentials = AWS_CREDENTIALS if type is TargetType.S3 else Credentials(anonymous=True)
    fields: dict[str, Any] = {
        "name": "vault",
        "type": type,
        "site": "test",
        "bucket": "backups",
        "region": "us-east-1" if type is TargetType.S3 else None,
        "credentials": credentials,
    }
    fields.update(overrides)
    return Target(**fields)
