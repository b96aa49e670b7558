"""``.netrc`` files found by content when an entry carries a password; prose and logins alone are not."""

from __future__ import annotations

from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import agent, assert_no_secret

PASSWORD = "s3cr3t-netrc-pass"


def test_a_netrc_under_an_innocuous_name_is_found(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "backup-hosts").write_text(
        "machine ftp.example.org login anonymous\n"
        "macdef init\ncd /pub\nbinary\n\n"
        f"machine backups.internal\n  login vault\n  password {PASSWORD}\n"
        "default login guest\n"
    )

    exposure = scan(agent(workspace), known)

    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.CREDENTIAL_FILE
    assert (sighting.line, sighting.what) == (8, "password of vault@backups.internal (netrc)")
    assert sighting.masked == f"•••• ({len(PASSWORD)} characters)"
    assert PASSWORD not in repr(exposure)
    assert_no_secret(exposure)


def test_netrc_look_alikes_are_not_flagged(workspace: Path, known: KnownCredentials) -> None:
    # Logins only (the password comes from elsewhere), and prose that uses the words.
    (workspace / ".netrc").write_text("machine api.github.com login octocat\n")
    (workspace / "notes.md").write_text(
        "machine learning notes: the password for the demo is in the vault, not here.\n"
    )

    exposure = scan(agent(workspace), known)

    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 2
