"""A stanza with two repositories, a bucket and a local directory: each one a copy of its own, on its
own site, counted by 3-2-1-1-0; a repository nothing was backed up into fails with pgBackRest's word."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drill.config import load_config
from drill.engine import execute
from drill.model import Phase, Status
from tests.pgbackrest_estate import StanzaFactory

pytestmark = pytest.mark.slow

CONFIG = """
[policy]
copies = 2
media = 2
offsite = 1
immutable = 0

[report]
dir = "{reports}"

[[targets]]
name = "cloud"
type = "pgbackrest"
stanza = "two"
config = "{config}"
repo = 1
endpoint_url = "{endpoint}"
region = "us-east-1"
site = "aws:1:us-east-1"
credentials = {{ access_key_id_env = "E2E_KEY_ID", secret_access_key_env = "E2E_SECRET" }}

[[targets]]
name = "local"
type = "pgbackrest"
stanza = "two"
config = "{config}"
repo = 2
site = "dc-1"
media = "disk"

[[databases]]
name = "app"
site = "dc-1"
targets = ["cloud", "local"]
"""


def test_each_repository_of_a_stanza_is_a_copy_on_its_own_site(
    tmp_path: Path, make_s3_stanza: StanzaFactory
) -> None:
    # archive-push pushes to every repository; backup writes to repo1 unless told otherwise.
    stanza = make_s3_stanza("two", repo_options={"repo2-path": "{root}/repo"})
    config = tmp_path / "drill.toml"
    config.write_text(
        CONFIG.format(reports=tmp_path / "reports", config=stanza.config, endpoint=stanza.s3_endpoint)
    )
    environ = {"E2E_KEY_ID": "testing", "E2E_SECRET": "testing"}

    def judged() -> dict[tuple[str, str | None], Status]:
        run = execute(
            load_config(config, environ=environ),
            command="check",
            phases=frozenset({Phase.POSTURE}),
            environ=environ,
            now=datetime.now(UTC),
        )
        return {
            (finding.check, finding.target): finding.status
            for finding in run.findings
            if "3-2-1-1" in finding.message or finding.target
        }

    before = judged()
    assert before[("pgbackrest_backups", "cloud")] is Status.PASS
    assert before[("pgbackrest_backups", "local")] is Status.FAIL  # nothing was backed up into it yet
    assert before[("copies_3_2_1", None)] is Status.FAIL

    stanza.pgbackrest("--repo=2", "--type=full", "backup")
    after = judged()
    assert after[("pgbackrest_backups", "local")] is Status.PASS
    assert (
        after[("pgbackrest_wal", "local")] is Status.PASS
        and after[("pgbackrest_wal", "cloud")] is Status.PASS
    )
    assert after[("copies_3_2_1", None)] is Status.PASS
