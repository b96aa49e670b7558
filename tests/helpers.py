"""Targets pointed at the test emulators, with credentials passed the way drill passes them."""

from __future__ import annotations

import json
from pathlib import Path
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


def write_service_account_key(
    path: Path, *, project: str = "backup-project", email: str | None = None
) -> Path:
    """A service-account key file in Google's format, with a freshly generated RSA key."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": email or f"drill@{project}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path


def iam_user_keys(iam: Any, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    """A moto IAM user with ``policy`` inline and an access key; the policy binds once moto enforces IAM."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="drill-test", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def other_account_iam(endpoint: str, account: str) -> Any:
    """An IAM client whose calls carry moto's account header: users it creates live in ``account``."""
    import boto3  # noqa: PLC0415 - only the AWS tests need it

    client = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.iam.*", add_header)
    return client
