"""Env files: secret-named assignments, and the configured env file whatever its name."""

from __future__ import annotations

from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import agent, assert_no_secret


def test_env_file_credentials_and_the_configured_env_file_whatever_its_name(
    workspace: Path, tmp_path: Path, known: KnownCredentials
) -> None:
    (workspace / ".env.production").write_text(
        "PORT=8080\nSTRIPE_API_KEY=sk_live_abcdef123456\nTOKEN_TTL=3600\nDB_PASSWORD=${VAULT_DB}\n"
    )
    env_file = tmp_path / "agent-settings.conf"
    env_file.write_text("GOOGLE_APPLICATION_CREDENTIALS=/etc/keys/ci.json\nPGPASSWORD='hunter2pg'\n")
    exposure = scan(agent(workspace, env_file=env_file), known)
    found = {(Path(sighting.path).name, sighting.line): sighting for sighting in exposure.sightings}
    assert set(found) == {(".env.production", 2), ("agent-settings.conf", 1), ("agent-settings.conf", 2)}
    assert found["agent-settings.conf", 1].masked == "/etc…json"
    assert found["agent-settings.conf", 2].masked == "•••• (9 characters)"
    assert all(sighting.kind is SightingKind.CREDENTIAL_FILE for sighting in exposure.sightings)
    assert exposure.scanned == (str(workspace), str(env_file))
    assert_no_secret(exposure)
