import base64
import hashlib
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

from drill.checks.copies_3_2_1 import copies_3_2_1
from drill.config import Policy, TargetType
from drill.engine import evaluate
from drill.facts import BucketPosture, DatabaseTargetFacts
from drill.model import Finding, Severity, Status, Unavailable
from tests import factories, postures

SPEC = copies_3_2_1.__drill_check__  # type: ignore[attr-defined]
BODY = b"PGDMP" + bytes(1000)


def copy(
    name: str,
    *,
    site: str,
    type: TargetType = TargetType.S3,
    posture: BucketPosture | Unavailable | None = None,
    age: timedelta = timedelta(hours=1),
    size: int = len(BODY),
    key: str = "orders/orders-2026-11-22.dump",
    checksums: dict[str, str] | None = None,
    policy: Policy | None = None,
    **target: Any,
) -> DatabaseTargetFacts:
    snapshot = factories.snapshot(key, age=age, size=size)
    facts = factories.database_target_facts(
        factories.listing(snapshot),
        target_model=factories.target(name, type=type, site=site, **target),
        policy=policy,
    )
    default_posture = (
        postures.filesystem()
        if type is TargetType.FILESYSTEM
        else postures.s3(lock=False, mode=None, days=None)
    )
    protection = postures.locked_object(
        key, mode=None, locked_for=None, age=age, size=size, checksums=checksums
    )
    return replace(facts, posture=posture or default_posture, protection=protection)


def locked(name: str, *, site: str, **overrides: Any) -> DatabaseTargetFacts:
    facts = copy(name, site=site, posture=postures.s3(), **overrides)
    assert facts.listing is not None and not isinstance(facts.listing, Unavailable)
    latest = facts.listing.latest
    assert latest is not None
    return replace(
        facts, protection=postures.locked_object(latest.key, age=factories.NOW - latest.created_at)
    )


def score(
    *copies: DatabaseTargetFacts,
    policy: Policy | None = None,
    last_drill: Any = factories.NOW - timedelta(days=1),
) -> tuple[Finding, Finding]:
    facts = replace(factories.database_facts(*copies, policy=policy), last_passing_drill=last_drill)
    scorecard, zero = evaluate(SPEC, facts)
    return scorecard, zero


def good_estate() -> list[DatabaseTargetFacts]:
    return [
        locked("vault", site="aws:222:eu-central-1"),
        copy("primary", site="aws:111:eu-west-1"),
        copy("nas", site="office", type=TargetType.FILESYSTEM, media="disk"),
    ]


def test_three_separate_copies_two_media_offsite_and_locked_pass() -> None:
    scorecard, _ = score(*good_estate())
    assert scorecard.status is Status.PASS
    assert asdict(scorecard.evidence.score) == {"copies": 3, "media": 2, "offsite": 3, "immutable": 1}
    assert all(item.counted for item in scorecard.evidence.copies)


def test_two_targets_in_one_bucket_are_one_copy() -> None:
    estate = [
        locked("vault", site="aws:222:eu-central-1"),
        copy("primary", site="aws:111:eu-west-1", bucket="shared"),
        copy("primary-again", site="aws:333:us-east-1", bucket="shared", prefix="other/"),
    ]
    scorecard, _ = score(*estate, policy=Policy(media=1))
    assert scorecard.status is Status.FAIL
    assert scorecard.evidence.score.copies == 2
    assert "short of copies" in scorecard.message


def test_two_targets_on_one_site_are_one_copy() -> None:
    estate = [
        locked("vault", site="aws:222:eu-central-1"),
        copy("primary", site="aws:111:eu-west-1"),
        copy("replica", site="aws:111:eu-west-1"),
    ]
    scorecard, _ = score(*estate, policy=Policy(media=1))
    assert scorecard.status is Status.FAIL
    assert scorecard.evidence.score.copies == 2


def test_a_stale_copy_does_not_count_and_says_why() -> None:
    estate = good_estate()
    estate[2] = copy("nas", site="office", type=TargetType.FILESYSTEM, media="disk", age=timedelta(days=3))
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.FAIL
    nas = next(item for item in scorecard.evidence.copies if item.target == "nas")
    assert not nas.counted and "not the newest snapshot" not in nas.why
    assert nas.why == "stale: 3d old, limit 1d 2h"


def test_a_copy_that_holds_an_older_snapshot_does_not_count() -> None:
    estate = good_estate()
    estate[1] = copy(
        "primary", site="aws:111:eu-west-1", key="orders/orders-2026-11-21.dump", age=timedelta(hours=5)
    )
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.FAIL
    primary = next(item for item in scorecard.evidence.copies if item.target == "primary")
    assert "not the newest snapshot" in primary.why


def test_a_copy_of_a_different_size_is_inconsistent() -> None:
    estate = good_estate()
    estate[1] = copy("primary", site="aws:111:eu-west-1", size=10)
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.FAIL
    assert "size 10 differs" in scorecard.message


def test_copies_with_different_md5_are_inconsistent() -> None:
    right = hashlib.md5(BODY).hexdigest()
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    estate = [
        locked("vault", site="aws:222:eu-central-1", checksums={"etag": right}),
        copy("primary", site="aws:111:eu-west-1", checksums={"etag": right}),
        copy("archive", site="gcp:p:eu", type=TargetType.GCS, checksums={"md5": wrong}),
    ]
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.FAIL
    assert "MD5" in scorecard.message


def test_copies_with_the_same_md5_across_stores_are_consistent() -> None:
    digest = hashlib.md5(BODY).digest()
    estate = [
        locked("vault", site="aws:222:eu-central-1", checksums={"etag": digest.hex()}),
        copy("primary", site="aws:111:eu-west-1", checksums={"etag": digest.hex()}),
        copy(
            "archive",
            site="gcp:p:eu",
            type=TargetType.GCS,
            checksums={"md5": base64.b64encode(digest).decode()},
        ),
    ]
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.PASS


def test_no_immutable_copy_fails_critical() -> None:
    estate = [
        copy("a", site="s1"),
        copy("b", site="s2"),
        copy("nas", site="s3", type=TargetType.FILESYSTEM, media="disk"),
    ]
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.FAIL
    assert scorecard.severity is Severity.CRITICAL
    assert "0/1 immutable" in scorecard.message


def test_production_site_does_not_count_as_offsite() -> None:
    estate = [locked("vault", site="prod"), copy("primary", site="prod-2")]
    estate = [replace(item, database=factories.database(site="prod")) for item in estate]
    scorecard, _ = score(*estate, policy=Policy(copies=2, media=1, offsite=2))
    assert scorecard.status is Status.FAIL
    assert scorecard.evidence.score.offsite == 1


def test_an_unreadable_copy_makes_a_shortfall_an_error_not_a_failure() -> None:
    estate = good_estate()
    estate[2] = replace(estate[2], listing=Unavailable("Directory /backups/nas does not exist."))
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.ERROR
    assert "nas could not be read" in scorecard.message


def test_an_unreadable_copy_does_not_matter_when_the_others_meet_the_rule() -> None:
    estate = [*good_estate(), replace(copy("extra", site="elsewhere"), listing=Unavailable("denied"))]
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.PASS


def test_the_zero_is_met_by_a_restore_drill_within_90_days() -> None:
    _, zero = score(*good_estate(), last_drill=factories.NOW - timedelta(days=30))
    assert zero.status is Status.PASS
    assert zero.evidence.age_seconds == 30 * 86400


def test_the_zero_fails_when_no_drill_ever_passed() -> None:
    _, zero = score(*good_estate(), last_drill=None)
    assert zero.status is Status.FAIL
    assert "has ever passed" in zero.message


def test_the_zero_fails_when_the_last_passing_drill_is_older_than_90_days() -> None:
    _, zero = score(*good_estate(), last_drill=factories.NOW - timedelta(days=100))
    assert zero.status is Status.FAIL
    assert "over 90 days" in zero.message


def test_an_unreadable_history_makes_the_zero_an_error() -> None:
    _, zero = score(*good_estate(), last_drill=Unavailable("Cannot read the run history: permission denied."))
    assert zero.status is Status.ERROR


def test_an_sse_kms_copy_without_a_comparable_md5_is_judged_by_size_alone() -> None:
    # S3 leaves the ETag out of the HEAD checksums under SSE-KMS: it is not the object's MD5.
    right = hashlib.md5(BODY).hexdigest()
    estate = [
        locked("vault", site="aws:222:eu-central-1", checksums={"etag": right}),
        copy("primary", site="aws:111:eu-west-1", checksums={}),
        copy("nas", site="office", type=TargetType.FILESYSTEM, media="disk"),
    ]
    scorecard, _ = score(*estate)
    assert scorecard.status is Status.PASS
