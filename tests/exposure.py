"""The backup credentials, agents and directories the credential-scan tests share."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from drill.config import Agent, Config, Credentials, Target, TargetType
from drill.facts import Exposure
from drill.model import Unavailable

KEY_ID = "AKIAZ7Q2BACKUPWR1TER"
SECRET = "q8Vd2Lr/T0pXk4NwZ7sB1mYcH3jE6uGf9aKx5RtW"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" + "Ab1Cd2Ef3Gh4" * 12
OTHER_KEY_ID = "AKIAQQQQOTHERUSER001"
OTHER_SECRET = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp/Oo+Nn1M"
SERVICE_ACCOUNT = "backup-writer@vault-project.iam.gserviceaccount.com"
ENVIRON = {"BACKUP_KEY_ID": KEY_ID, "BACKUP_SECRET": SECRET, "BACKUP_TOKEN": SESSION_TOKEN, "SHORT": "abc"}

assert len(SECRET) == 40 and len(OTHER_SECRET) == 40 and len(KEY_ID) == 20


def private_key(seed: int) -> str:
    # Distinct lines, as in a real key: a periodic body would repeat the probed line.
    raw = b"".join(hashlib.sha256(f"{seed}:{block}".encode()).digest() for block in range(38))
    body = base64.b64encode(raw).decode()
    lines = [body[start : start + 64] for start in range(0, len(body), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def service_account(key_id: str, key: str, email: str = SERVICE_ACCOUNT) -> dict[str, str]:
    return {
        "type": "service_account",
        "project_id": "vault-project",
        "private_key_id": key_id,
        "private_key": key,
        "client_email": email,
        "token_uri": "https://oauth2.googleapis.com/token",
    }


BACKUP_KEY = private_key(1)
BACKUP_KEY_ID = "3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f6a7b8c9d0e"


BACKUP_KEY = private_key(1)
BACKUP_KEY_ID = "3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f6a7b8c9d0e"


def write_secrets(tmp_path: Path) -> Path:
    """Where drill's config keeps the targets' credential files: outside every agent's paths."""
    directory = tmp_path / "drill-secrets"
    directory.mkdir()
    (directory / "aws-credentials").write_text(
        f"[backup]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n\n"
        f"[unrelated]\naws_access_key_id = {OTHER_KEY_ID}\naws_secret_access_key = {OTHER_SECRET}\n"
    )
    (directory / "sa.json").write_text(json.dumps(service_account(BACKUP_KEY_ID, BACKUP_KEY)))
    return directory


def backup_config(secrets_dir: Path) -> Config:
    """Three targets: keys in variables, a profile of a credentials file, a service-account key file."""
    return Config(
        targets=(
            Target(
                name="vault",
                type=TargetType.S3,
                bucket="vault-bucket",
                site="aws:1",
                credentials=Credentials(
                    access_key_id_env="BACKUP_KEY_ID",
                    secret_access_key_env="BACKUP_SECRET",
                    session_token_env="BACKUP_TOKEN",
                ),
            ),
            Target(
                name="offsite",
                type=TargetType.S3,
                bucket="offsite-bucket",
                site="aws:2",
                credentials=Credentials(
                    credentials_file=str(secrets_dir / "aws-credentials"), profile="backup"
                ),
            ),
            Target(
                name="gvault",
                type=TargetType.GCS,
                bucket="gvault-bucket",
                site="gcp:1",
                credentials=Credentials(service_account_file=str(secrets_dir / "sa.json")),
            ),
        )
    )


def agent(*paths: Path, env_file: Path | None = None) -> Agent:
    return Agent(
        name="coder", paths=tuple(str(path) for path in paths), env_file=str(env_file) if env_file else None
    )


def assert_no_secret(exposure: Exposure | Unavailable) -> None:
    shown = repr(exposure) + str(exposure)
    for secret in (
        SECRET,
        OTHER_SECRET,
        SESSION_TOKEN,
        "BEGIN PRIVATE KEY",
        BACKUP_KEY.splitlines()[2],
        "hunter2pg",
    ):
        assert secret not in shown


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A directory anyone may enter, outside pytest's tmp_path, which nobody can traverse to."""
    directory = Path(tempfile.mkdtemp(prefix="drill-exposure-"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory)


def as_unprivileged(function: Callable[[], Any]) -> Any:
    """Run ``function`` as ``nobody``: root reads everything whatever the mode, so as root it runs in a
    forked child that drops its privileges."""
    if os.geteuid() != 0:
        return function()
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def child() -> None:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        results.put(function())

    process = context.Process(target=child)
    process.start()
    result = results.get(timeout=30)
    process.join(timeout=30)
    return result
