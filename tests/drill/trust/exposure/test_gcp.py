"""Service-account keys in an agent's files: copies, reformatted and extracted keys, other keys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import (
    BACKUP_KEY,
    BACKUP_KEY_ID,
    SERVICE_ACCOUNT,
    agent,
    assert_no_secret,
    private_key,
    service_account,
)


def test_copied_service_account_json_of_a_target(
    workspace: Path, secrets_dir: Path, known: KnownCredentials
) -> None:
    shutil.copy(secrets_dir / "sa.json", workspace / "key.json")
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_KEY_FILE and sighting.targets == ("gvault",)


def test_reformatted_service_account_json_is_found_by_its_key_id_and_private_key(
    workspace: Path, known: KnownCredentials
) -> None:
    document = service_account(BACKUP_KEY_ID, BACKUP_KEY)
    (workspace / "pretty.json").write_text(json.dumps(document, indent=2))
    exposure = scan(agent(workspace), known)
    kinds = {sighting.line: sighting.kind for sighting in exposure.sightings}
    assert kinds == {4: SightingKind.KNOWN_KEY_ID, 5: SightingKind.KNOWN_SECRET}
    [key] = [sighting for sighting in exposure.sightings if sighting.kind is SightingKind.KNOWN_SECRET]
    assert key.masked == f"•••• ({len(BACKUP_KEY)} characters)" and key.targets == ("gvault",)
    assert_no_secret(exposure)


def test_private_key_extracted_to_a_pem_file_is_found(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "key.pem").write_text(BACKUP_KEY)
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_SECRET and sighting.line == 3


def test_another_key_of_the_backup_service_account_reaches_the_backups(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / "new-key.json").write_text(json.dumps(service_account("9" * 40, private_key(2))))
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_KEY_FILE
    assert sighting.targets == ("gvault",)
    assert SERVICE_ACCOUNT in sighting.what


def test_unrelated_service_account_json_is_a_credential_file(
    workspace: Path, known: KnownCredentials
) -> None:
    document = service_account("8" * 40, private_key(3), email="ci@other.iam.gserviceaccount.com")
    (workspace / "ci.json").write_text(json.dumps(document, indent=2))
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.CREDENTIAL_FILE and sighting.line == 5
    assert "ci@other" in sighting.what
    assert "PRIVATE KEY" not in repr(exposure)
