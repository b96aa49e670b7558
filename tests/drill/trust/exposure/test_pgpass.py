"""PostgreSQL password files: one masked sighting per password line."""

from __future__ import annotations

from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import agent, assert_no_secret


def test_pgpass_lines_are_credentials_masked(workspace: Path, known: KnownCredentials) -> None:
    (workspace / ".pgpass").write_text("# prod\ndb.internal:5432:orders:app:hunter2pg\n*:*:*:readonly:\n")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.CREDENTIAL_FILE
    assert sighting.line == 2
    assert sighting.what == "PostgreSQL password of app@db.internal:5432/orders (pgpass)"
    assert sighting.masked == "•••• (9 characters)"
    assert_no_secret(exposure)


def test_a_pgpass_under_an_innocuous_name_is_found_by_content(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / "hosts.txt").write_text("# replicas\nreplica-1:5432:*:replicator:hunter2pg\n*:*:*:report:\n")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert (sighting.line, sighting.what) == (
        2,
        "PostgreSQL password of replicator@replica-1:5432/* (pgpass)",
    )
    assert_no_secret(exposure)


def test_colon_separated_look_alikes_are_not_taken_for_a_pgpass(
    workspace: Path, known: KnownCredentials
) -> None:
    # /etc/passwd has seven fields; a log line's second field is not a port; no password, no sighting.
    (workspace / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (workspace / "app.log").write_text("2026-12-05 10:00:01:INFO:db:connected\n")
    (workspace / "hosts.txt").write_text("db.internal:5432:orders:app:\n")
    exposure = scan(agent(workspace), known)
    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 3
