"""The posture of real pgBackRest stanzas (tests/pgbackrest_estate.py), judged by drill's engine:
a posix stanza passes; a stale one, a WAL gap, a retention shorter than the policy, a backup with
checksum errors and an unlocked S3 repository each fail with their reason."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drill.config import load_config
from drill.engine import execute
from drill.evidence import to_json
from drill.model import DrillRun, Finding, Phase, Severity, Status
from tests.pgbackrest_estate import Stanza, StanzaFactory

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

pytestmark = pytest.mark.slow

POLICY = """
[policy]
copies = 1
media = 1
offsite = 0
immutable = {immutable}
max_age = "{max_age}"
min_retention = "{min_retention}"
"""

TARGET = """
[[targets]]
name = "{name}"
type = "pgbackrest"
stanza = "{stanza}"
config = "{config}"
{extra}
"""

DATABASE = """
[[databases]]
name = "app"
site = "dc-1"
targets = ["{name}"]
"""
S3_EXTRA = """endpoint_url = "{endpoint}"
sts_endpoint_url = "{endpoint}"
iam_endpoint_url = "{endpoint}"
region = "us-east-1"
site = "aws:1:us-east-1"
credentials = {{ access_key_id_env = "E2E_KEY_ID", secret_access_key_env = "E2E_SECRET" }}"""
S3_ENVIRON = {"E2E_KEY_ID": "testing", "E2E_SECRET": "testing"}
# An agent whose user may do anything to S3.
AGENT = """
[[agents]]
name = "ci"
credentials = { access_key_id_env = "E2E_AGENT_KEY_ID", secret_access_key_env = "E2E_AGENT_SECRET" }
"""
ANYTHING_ON_S3 = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
)


def s3_agent(iam: IAMClient) -> dict[str, str]:
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="s3", PolicyDocument=ANYTHING_ON_S3)
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    return {"E2E_AGENT_KEY_ID": key["AccessKeyId"], "E2E_AGENT_SECRET": key["SecretAccessKey"]}


def posture(
    tmp_path: Path,
    stanza: Stanza,
    *,
    config: Path | None = None,
    extra: str = 'site = "dc-1"',
    max_age: str = "1h",
    min_retention: str = "1d",
    environ: Mapping[str, str] | None = None,
    later: timedelta = timedelta(0),
    immutable: int = 0,
    agents: str = "",
    phases: frozenset[Phase] = frozenset({Phase.POSTURE}),
) -> DrillRun:
    text = (
        POLICY.format(max_age=max_age, min_retention=min_retention, immutable=immutable)
        + f'[report]\ndir = "{tmp_path / "reports"}"\n'
        + TARGET.format(name=stanza.name, stanza=stanza.name, config=config or stanza.config, extra=extra)
        + DATABASE.format(name=stanza.name)
        + agents
    )
    path = tmp_path / "drill.toml"
    path.write_text(text)
    environ = dict(environ or {})
    loaded = load_config(path, environ=environ)
    return execute(loaded, command="check", phases=phases, environ=environ, now=datetime.now(UTC) + later)


def finding(run: DrillRun, check: str) -> Finding:
    [found] = [finding for finding in run.findings if finding.check == check]
    return found


def test_a_posix_stanza_passes_posture(tmp_path: Path, pgbackrest_stanza: Stanza) -> None:
    run = posture(tmp_path, pgbackrest_stanza)
    for check in (
        "pgbackrest_backups",
        "pgbackrest_wal",
        "pgbackrest_retention",
        "pgbackrest_cipher",
        "freshness",
    ):
        assert finding(run, check).status is Status.PASS, finding(run, check).message
    assert finding(run, "freshness").target == "main.repo1"
    assert pgbackrest_stanza.labels[-1] in finding(run, "freshness").message
    scorecard = [f for f in run.findings if f.check == "copies_3_2_1" and "3-2-1-1" in f.message]
    assert [f.status for f in scorecard] == [Status.PASS]
    assert run.coverage.databases[0].targets == ("main.repo1",)


def test_a_stale_stanza_fails_freshness(tmp_path: Path, pgbackrest_stanza: Stanza) -> None:
    run = posture(tmp_path, pgbackrest_stanza, max_age="1h", later=timedelta(hours=3))
    stale = finding(run, "freshness")
    assert stale.status is Status.FAIL and "older than the limit of 1h" in stale.message


def test_a_wal_gap_fails_naming_the_missing_segment(tmp_path: Path, pgbackrest_gap_stanza: Stanza) -> None:
    run = posture(tmp_path, pgbackrest_gap_stanza)
    gap = finding(run, "pgbackrest_wal")
    assert pgbackrest_gap_stanza.deleted is not None
    assert gap.status is Status.FAIL and pgbackrest_gap_stanza.deleted in gap.message
    assert gap.evidence is not None and gap.evidence.missing == (pgbackrest_gap_stanza.deleted,)  # type: ignore[attr-defined]
    # info still says ok, and the backup itself is whole.
    assert finding(run, "pgbackrest_backups").status is Status.PASS


def test_a_retention_shorter_than_the_policy_fails(tmp_path: Path, pgbackrest_stanza: Stanza) -> None:
    # The same repository, read through a config that expires after 7 days (pgBackRest only reads it here).
    config = tmp_path / "pgbackrest.conf"
    text = pgbackrest_stanza.config.read_text()
    config.write_text(
        text.replace("[global]\n", "[global]\nrepo1-retention-full-type=time\nrepo1-retention-full=7\n")
    )
    run = posture(tmp_path, pgbackrest_stanza, config=config, min_retention="30d")
    short = finding(run, "pgbackrest_retention")
    assert short.status is Status.FAIL and "7d" in short.message and "30d" in short.message


def test_a_backup_with_checksum_errors_fails(tmp_path: Path, make_stanza: StanzaFactory) -> None:
    stanza = make_stanza("corrupt", corrupt_page=True, rows_after=0)
    flagged = finding(posture(tmp_path, stanza), "pgbackrest_backups")
    assert flagged.status is Status.FAIL and flagged.severity is Severity.CRITICAL
    assert stanza.labels[-1] in flagged.message and "checksum" in flagged.message


def test_an_unlocked_s3_repository_fails_immutability_3_2_1_1_and_trust(
    tmp_path: Path, pgbackrest_s3_stanza: Stanza, iam_admin: IAMClient
) -> None:
    extra = S3_EXTRA.format(endpoint=pgbackrest_s3_stanza.s3_endpoint)
    environ = S3_ENVIRON | s3_agent(iam_admin)
    run = posture(tmp_path, pgbackrest_s3_stanza, extra=extra, environ=environ, immutable=1, agents=AGENT)
    unlocked = finding(run, "immutability")
    assert unlocked.target == "cloud.repo1" and unlocked.status is Status.FAIL
    # One copy on one site, and nothing locked: what 3-2-1-1-0 fails on.
    [scorecard] = [f for f in run.findings if f.check == "copies_3_2_1" and "3-2-1-1" in f.message]
    assert scorecard.status is Status.FAIL and "0/1 immutable" in scorecard.message
    # The rest of the repository is read through S3 as well.
    assert finding(run, "pgbackrest_wal").status is Status.PASS
    assert finding(run, "pgbackrest_backups").status is Status.PASS
    assert finding(run, "pgbackrest_cipher").status is Status.WARN
    assert finding(run, "freshness").status is Status.PASS
    # Trust separation is judged on the repository's bucket and its real backup keys, as for any s3 target.
    trust = finding(run, "trust_separation")
    assert (trust.agent, trust.target) == ("ci", "cloud.repo1") and trust.status is Status.FAIL, trust.message
    assert f"pgbackrest/backup/cloud/{pgbackrest_s3_stanza.labels[-1]}/backup.manifest" in json.dumps(
        to_json(trust.evidence)
    )


def test_a_locked_s3_repository_is_immutable_and_its_lock_outlasting_expire_warns(
    tmp_path: Path, make_s3_stanza: StanzaFactory
) -> None:
    stanza = make_s3_stanza(
        "vault",
        lock_days=40,
        repo_options={"repo1-retention-full-type": "time", "repo1-retention-full": "35"},
    )
    extra = S3_EXTRA.format(endpoint=stanza.s3_endpoint)
    run = posture(tmp_path, stanza, extra=extra, environ=S3_ENVIRON, immutable=1, min_retention="30d")
    assert finding(run, "immutability").status is Status.PASS, finding(run, "immutability").message
    [scorecard] = [f for f in run.findings if f.check == "copies_3_2_1" and "3-2-1-1" in f.message]
    assert scorecard.status is Status.PASS, scorecard.message
    retention = finding(run, "pgbackrest_retention")
    assert retention.status is Status.WARN and "40d" in retention.message and "35d" in retention.message


def test_a_database_restored_from_a_stanza_is_drilled_physically(
    tmp_path: Path, pgbackrest_stanza: Stanza
) -> None:
    # The physical drill itself is tested in tests/drill/restore/physical.
    run = posture(tmp_path, pgbackrest_stanza, phases=frozenset({Phase.POSTURE, Phase.RESTORE}))
    for check in ("restore", "wal_replay", "page_checksums"):
        assert finding(run, check).status is Status.PASS, finding(run, check).message
