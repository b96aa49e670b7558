"""Drift of what a real pgBackRest stanza's config promises (tests/pgbackrest_estate.py): the
repository's retention and cipher are part of the approved baseline, so expiring sooner is a `fail`
and keeping longer a `warn`. The stanza is only read: each case reads it through its own copy of the
config, as the posture tests do."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drill.baseline import codec
from drill.config import load_config
from drill.engine import approve_baseline, execute
from drill.model import DrillRun, Finding, Phase, Status
from tests.pgbackrest_estate import Stanza

pytestmark = pytest.mark.slow

CONFIG = """
[report]
dir = "{reports}"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0
min_retention = "1d"

[[targets]]
name = "pgbr"
type = "pgbackrest"
stanza = "{stanza}"
config = "{config}"
site = "dc-1"

[[databases]]
name = "app"
site = "dc-2"
targets = ["pgbr"]
"""


class StanzaDrift:
    def __init__(self, directory: Path, stanza: Stanza) -> None:
        self.directory = directory
        self.stanza = stanza
        self.pgbackrest_config = directory / "pgbackrest.conf"
        self.drill_config = directory / "drill.toml"
        self.drill_config.write_text(
            CONFIG.format(reports=directory / "reports", stanza=stanza.name, config=self.pgbackrest_config)
        )

    def retention(self, full: int) -> None:
        original = self.stanza.config.read_text()
        self.pgbackrest_config.write_text(
            original.replace("[global]\n", f"[global]\nrepo1-retention-full={full}\n")
        )

    def approve(self) -> None:
        loaded = load_config(self.drill_config, {})
        approved = approve_baseline(loaded, by="alice", environ={}, now=datetime.now(UTC))
        path = Path(loaded.config.baseline_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(codec.render(approved))

    def drift(self) -> list[Finding]:
        run: DrillRun = execute(
            load_config(self.drill_config, {}),
            command="check",
            phases=frozenset({Phase.POSTURE}),
            environ={},
            only=frozenset({"drift"}),
        )
        return [finding for finding in run.findings if finding.status is not Status.PASS]


@pytest.fixture
def drift(tmp_path: Path, pgbackrest_stanza: Stanza) -> StanzaDrift:
    estate = StanzaDrift(tmp_path, pgbackrest_stanza)
    estate.retention(4)
    estate.approve()
    return estate


def test_an_unchanged_stanza_has_no_drift(drift: StanzaDrift) -> None:
    assert drift.drift() == []


def test_fewer_full_backups_kept_is_a_weakening(drift: StanzaDrift) -> None:
    drift.retention(2)

    [finding] = drift.drift()

    assert finding.status is Status.FAIL and finding.target == "pgbr.repo1"
    assert "pgBackRest full backups kept weakened from 4 to 2" in finding.message


def test_more_full_backups_kept_asks_to_approve_again(drift: StanzaDrift) -> None:
    drift.retention(8)

    [finding] = drift.drift()

    assert finding.status is Status.WARN
    assert "pgBackRest full backups kept strengthened from 4 to 8" in finding.message
