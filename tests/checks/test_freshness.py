from datetime import timedelta

from drill.checks.freshness import freshness
from drill.config import Policy
from drill.engine import evaluate
from drill.facts import SnapshotListing, Unavailable
from drill.model import Status
from tests import factories

SPEC = freshness.__drill_check__  # type: ignore[attr-defined]


def test_snapshot_younger_than_max_age_passes() -> None:
    facts = factories.database_target_facts(factories.listing(factories.snapshot(age=timedelta(hours=3))))
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.PASS
    assert finding.evidence.age_seconds == 3 * 3600
    assert finding.evidence.snapshot == "orders/orders-1.dump"
    assert finding.remediation is None


def test_snapshot_older_than_max_age_fails_with_both_ages() -> None:
    facts = factories.database_target_facts(
        factories.listing(factories.snapshot(age=timedelta(hours=30))),
        policy=Policy(max_age=timedelta(hours=26)),
    )
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.FAIL
    assert "1d 6h" in finding.message and "1d 2h" in finding.message
    assert finding.remediation


def test_judges_the_newest_snapshot_not_the_oldest() -> None:
    old = factories.snapshot("orders/a.dump", age=timedelta(days=40))
    new = factories.snapshot("orders/b.dump", age=timedelta(minutes=5))
    [finding] = evaluate(SPEC, factories.database_target_facts(factories.listing(old, new)))
    assert finding.status is Status.PASS
    assert finding.evidence.snapshot == "orders/b.dump"
    assert finding.evidence.snapshots == 2


def test_target_without_any_snapshot_fails() -> None:
    [finding] = evaluate(SPEC, factories.database_target_facts(factories.listing()))
    assert finding.status is Status.FAIL
    assert "No snapshot" in finding.message


def test_unreadable_listing_is_an_error_with_the_reason_never_a_verdict() -> None:
    facts = factories.database_target_facts(Unavailable("s3:ListBucket denied on bucket vault-bucket."))
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.ERROR
    assert "s3:ListBucket denied" in finding.message
    assert finding.target == "vault" and finding.database == "orders"


def test_freshness_names_the_links_it_could_not_count() -> None:
    found = SnapshotListing(pattern="pg/orders/*.dump", count=0, newest=(), unfollowed_count=1)

    [finding] = evaluate(SPEC, factories.database_target_facts(found))

    assert finding.status is Status.FAIL
    assert "did not follow the symbolic link" in finding.message and "snapshot_links" in finding.message


def test_a_snapshot_dated_in_the_future_cannot_be_judged() -> None:
    """A file's time is set by whoever writes the directory: a stale dump dated ahead must not pass."""
    ahead = factories.snapshot(age=-timedelta(days=400))

    [finding] = evaluate(SPEC, factories.database_target_facts(factories.listing(ahead)))

    assert finding.status is Status.ERROR
    assert "dated 400d in the future" in finding.message and "cannot be judged" in finding.message
    assert finding.evidence.age_seconds < 0


def test_a_few_minutes_of_clock_skew_still_passes() -> None:
    ahead = factories.snapshot(age=-timedelta(minutes=2))

    [finding] = evaluate(SPEC, factories.database_target_facts(factories.listing(ahead)))

    assert finding.status is Status.PASS
