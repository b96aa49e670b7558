"""Known backup credentials found in an agent's files: by value, and as whole copies of known files."""

from __future__ import annotations

import shutil
from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import SECRET, SESSION_TOKEN, agent, assert_no_secret


def test_env_file_holding_the_backup_secret_on_line_3_is_a_known_secret_masked(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / ".env").write_text(f"# app settings\nDEBUG=1\nAWS_SECRET_ACCESS_KEY={SECRET}\n")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.path == str(workspace / ".env")
    assert sighting.line == 3
    assert sighting.kind is SightingKind.KNOWN_SECRET
    assert sighting.masked == "•••• (40 characters)"
    assert sighting.targets == ("vault", "offsite")
    assert "BACKUP_SECRET" in sighting.what
    assert_no_secret(exposure)


def test_a_copy_of_a_targets_credentials_file_is_one_known_key_file(
    workspace: Path, secrets_dir: Path, known: KnownCredentials
) -> None:
    shutil.copy(secrets_dir / "aws-credentials", workspace / "creds.bak")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.KNOWN_KEY_FILE
    assert sighting.line is None
    assert sighting.targets == ("offsite",)
    assert_no_secret(exposure)


def test_session_token_in_a_shell_history_is_known(workspace: Path, known: KnownCredentials) -> None:
    (workspace / ".bash_history").write_text(f"ls\ncd /srv\nexport AWS_SESSION_TOKEN={SESSION_TOKEN}\n")
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_SECRET and sighting.line == 3
    assert "session token" in sighting.what
