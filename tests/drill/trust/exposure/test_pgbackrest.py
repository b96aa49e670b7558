"""pgBackRest cipher passes found in any file; the other cipher options and empty values are not."""

from __future__ import annotations

from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import agent, assert_no_secret

CIPHER_PASS = "Zk8vQm3xL0pR7tYw2nB5cD9eF1gH4jK6"
OTHER_PASS = "another-repo-pass-9f8e7d6c"


def test_cipher_passes_are_found_in_any_file(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "notes.txt").write_text(
        f"[global]\nrepo1-type=s3\nrepo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass={CIPHER_PASS}\n"
    )
    (workspace / "job.sh").write_text(
        f"export PGBACKREST_REPO2_CIPHER_PASS='{OTHER_PASS}'\npgbackrest backup\n"
    )

    exposure = scan(agent(workspace), known)

    found = sorted(
        (sighting.path.rpartition("/")[2], sighting.line, sighting.what) for sighting in exposure.sightings
    )
    assert found == [
        ("job.sh", 1, "pgBackRest cipher pass of repo2 (variable)"),
        ("notes.txt", 4, "pgBackRest cipher pass of repo1 (option)"),
    ]
    assert {sighting.kind for sighting in exposure.sightings} == {SightingKind.CREDENTIAL_FILE}
    assert CIPHER_PASS not in repr(exposure) and OTHER_PASS not in repr(exposure)
    assert_no_secret(exposure)


def test_cipher_options_without_a_pass_are_not_flagged(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "pgbackrest.conf").write_text(
        "[global]\nrepo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=\n# repo2-cipher-pass is set by the job\n"
    )
    (workspace / "job.sh").write_text("PGBACKREST_REPO1_CIPHER_PASS=$VAULT_PASS pgbackrest backup\n")

    exposure = scan(agent(workspace), known)

    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 2
