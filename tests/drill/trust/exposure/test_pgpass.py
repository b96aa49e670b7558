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
