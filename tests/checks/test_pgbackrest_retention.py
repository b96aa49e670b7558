from datetime import timedelta

from drill.checks.pgbackrest_retention import pgbackrest_retention
from drill.config import Policy
from drill.engine import evaluate
from drill.model import Status
from tests import postures
from tests import stanza_facts as stanza
from tests.factories import NOW

SPEC = pgbackrest_retention.__drill_check__  # type: ignore[attr-defined]
POLICY = Policy(min_retention=timedelta(days=30))


def weekly_fulls(count: int) -> tuple:  # type: ignore[type-arg]
    return tuple(
        stanza.backup(f"full-{index}", stopped=NOW - timedelta(days=7 * (count - 1 - index)))
        for index in range(count)
    )


def judged(retention: stanza.Retention, *, posture=None, backups=None):  # type: ignore[no-untyped-def]
    repo = stanza.with_retention(stanza.repo(backups=backups or weekly_fulls(3)), retention)
    [finding] = evaluate(SPEC, stanza.facts(repo, posture=posture, policy=POLICY))
    return finding


def test_time_retention_of_the_policys_days_passes() -> None:
    finding = judged(stanza.retention(30, "time"))
    assert finding.status is Status.PASS and not finding.evidence.estimated


def test_time_retention_shorter_than_the_policy_fails() -> None:
    finding = judged(stanza.retention(7, "time"))
    assert finding.status is Status.FAIL
    assert "7d" in finding.message and "30d" in finding.message


def test_count_retention_is_estimated_from_the_cadence_and_says_so() -> None:
    finding = judged(stanza.retention(6))  # six weekly fulls: about 35 days
    assert finding.status is Status.PASS and finding.evidence.estimated
    assert "estimate" in finding.message and finding.evidence.cadence_seconds == 7 * 86400


def test_count_retention_shorter_than_the_policy_fails() -> None:
    finding = judged(stanza.retention(2))  # two weekly fulls: about 7 days
    assert finding.status is Status.FAIL and "estimate" in finding.message


def test_count_retention_without_a_cadence_is_an_error_never_a_pass() -> None:
    finding = judged(stanza.retention(10), backups=weekly_fulls(1))
    assert finding.status is Status.ERROR and "unknown" in finding.message


def test_one_full_backup_kept_fails_whatever_the_cadence() -> None:
    finding = judged(stanza.retention(1), backups=weekly_fulls(1))
    assert finding.status is Status.FAIL


def test_unset_retention_keeps_every_backup() -> None:
    finding = judged(stanza.retention(None))
    assert finding.status is Status.PASS and "every backup" in finding.message


def test_a_lock_longer_than_what_expire_keeps_warns_with_both_figures() -> None:
    finding = judged(stanza.retention(30, "time"), posture=postures.s3(days=90))
    assert finding.status is Status.WARN
    assert (
        "90d" in finding.message and "30d" in finding.message and finding.evidence.lock_seconds == 90 * 86400
    )


def test_a_lock_no_longer_than_retention_passes() -> None:
    assert judged(stanza.retention(30, "time"), posture=postures.s3(days=30)).status is Status.PASS


def test_wal_kept_for_fewer_full_backups_than_retention_warns() -> None:
    finding = judged(stanza.retention(6, archive=2))
    assert finding.status is Status.WARN and "retention-archive" in finding.message
