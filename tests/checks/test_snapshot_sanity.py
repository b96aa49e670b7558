import base64
import hashlib
from datetime import timedelta

from drill.checks.snapshot_sanity import snapshot_sanity
from drill.config import Policy
from drill.engine import evaluate
from drill.facts import ObjectProtection, Sidecar, SnapshotListing, Unavailable
from drill.model import Finding, Severity, Snapshot, Status
from tests import factories

SPEC = snapshot_sanity.__drill_check__  # type: ignore[attr-defined]

BODY = b"PGDMP" + bytes(range(256)) * 64  # the bytes the backup job wrote and hashed
OTHER = b"PGDMP" + b"\x00" * len(BODY)  # what a different (or corrupted) upload would hold


def base64_digest(algorithm: str, body: bytes) -> str:
    """A digest as S3 (ChecksumSHA256) and GCS (md5Hash) spell it: base64 of the raw bytes."""
    return base64.b64encode(hashlib.new(algorithm, body).digest()).decode()


def hex_digest(algorithm: str, body: bytes) -> str:
    """A digest as a sidecar (sha256sum, md5sum) spells it."""
    return hashlib.new(algorithm, body).hexdigest()


PREVIOUS = factories.snapshot("orders/orders-1.dump", age=timedelta(days=1), size=len(BODY))
LATEST = factories.snapshot("orders/orders-2.dump", age=timedelta(hours=1), size=len(BODY))


def judge(
    *snapshots: Snapshot,
    protection: ObjectProtection | Unavailable | None = None,
    sidecar: Sidecar | Unavailable | None = None,
    policy: Policy | None = None,
) -> Finding:
    found = factories.listing(*snapshots)
    if protection is None and found.latest is not None:
        protection = factories.head_of(found.latest)
    facts = factories.latest_facts(found, protection=protection, sidecar=sidecar, policy=policy)
    [finding] = evaluate(SPEC, facts)
    return finding


def test_sane_snapshot_passes_with_its_evidence() -> None:
    finding = judge(PREVIOUS, LATEST)
    assert finding.status is Status.PASS
    assert finding.evidence.snapshot == "orders/orders-2.dump"
    assert finding.evidence.size == len(BODY)
    assert finding.evidence.head_size == len(BODY)
    assert finding.evidence.previous == "orders/orders-1.dump"
    assert finding.evidence.previous_size == len(BODY)
    assert finding.evidence.ratio == 1.0
    assert finding.evidence.sidecar_verdict == "none"
    assert finding.remediation is None


def test_first_snapshot_without_a_previous_one_passes() -> None:
    finding = judge(LATEST)
    assert finding.status is Status.PASS
    assert finding.evidence.previous is None and finding.evidence.ratio is None


def test_empty_snapshot_fails_critical() -> None:
    empty = factories.snapshot("orders/orders-2.dump", size=0)
    finding = judge(PREVIOUS, empty)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "orders/orders-2.dump is empty (0 bytes)" in finding.message
    assert "orders/orders-1.dump before it holds 16.0 KiB" in finding.message
    assert [p.problem for p in finding.evidence.problems] == ["empty"]
    assert finding.remediation and "Stop the sync" in finding.remediation


def test_size_recorded_by_the_store_differing_from_the_listing_fails_naming_both_sizes() -> None:
    finding = judge(PREVIOUS, LATEST, protection=factories.head_of(LATEST, size=12_000))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.HIGH
    assert "16,389 bytes" in finding.message and "12,000 bytes" in finding.message
    assert "truncated or was replaced during listing" in finding.message


def test_object_replaced_by_an_empty_one_after_listing_fails_critical() -> None:
    finding = judge(PREVIOUS, LATEST, protection=factories.head_of(LATEST, size=0))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL


def test_snapshot_collapsed_against_the_previous_one_fails_critical_with_the_percentage() -> None:
    previous = factories.snapshot("orders/orders-1.dump", age=timedelta(days=1), size=2_000_000_000)
    tiny = factories.snapshot("orders/orders-2.dump", size=60_000_000)
    finding = judge(previous, tiny)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "shrank by 97% against orders/orders-1.dump (1.9 GiB)" in finding.message
    assert "orders/orders-2.dump (57.2 MiB)" in finding.message
    assert finding.evidence.ratio == 0.03


def test_drop_just_within_max_size_drop_passes() -> None:
    previous = factories.snapshot("orders/orders-1.dump", age=timedelta(days=1), size=1_000_000)
    smaller = factories.snapshot("orders/orders-2.dump", size=500_000)
    finding = judge(previous, smaller, policy=Policy(max_size_drop=0.5))
    assert finding.status is Status.PASS
    assert finding.evidence.ratio == 0.5


def test_drop_just_beyond_max_size_drop_fails() -> None:
    previous = factories.snapshot("orders/orders-1.dump", age=timedelta(days=1), size=1_000_000)
    smaller = factories.snapshot("orders/orders-2.dump", size=499_999)
    finding = judge(previous, smaller, policy=Policy(max_size_drop=0.5))
    assert finding.status is Status.FAIL
    assert "max_size_drop allows 50%" in finding.message


def test_sha256_sidecar_matching_the_s3_checksum_passes() -> None:
    head = factories.head_of(LATEST, checksums={"etag": "x-3", "sha256": base64_digest("sha256", BODY)})
    sidecar = factories.sidecar_of(LATEST, "sha256", hex_digest("sha256", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.PASS
    assert finding.evidence.sidecar_verdict == "match"
    assert finding.evidence.compared_with == "sha256"
    assert finding.evidence.sidecar == "orders/orders-2.dump.sha256"
    assert "matches the SHA-256 checksum the store recorded" in finding.message


def test_sha256_sidecar_differing_from_the_s3_checksum_fails_critical() -> None:
    head = factories.head_of(LATEST, checksums={"sha256": base64_digest("sha256", OTHER)})
    sidecar = factories.sidecar_of(LATEST, "sha256", hex_digest("sha256", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "not the one the backup job hashed" in finding.message
    assert finding.evidence.store_digest == hex_digest("sha256", OTHER)


def test_md5_sidecar_matching_the_gcs_md5_hash_passes() -> None:
    head = factories.head_of(LATEST, checksums={"md5": base64_digest("md5", BODY), "crc32c": "AAAAAA=="})
    sidecar = factories.sidecar_of(LATEST, "md5", hex_digest("md5", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.PASS
    assert finding.evidence.compared_with == "md5"


def test_md5_sidecar_differing_from_the_gcs_md5_hash_fails_critical() -> None:
    head = factories.head_of(LATEST, checksums={"md5": base64_digest("md5", OTHER)})
    sidecar = factories.sidecar_of(LATEST, "md5", hex_digest("md5", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL


def test_md5_sidecar_matching_a_single_part_s3_etag_passes() -> None:
    head = factories.head_of(LATEST, checksums={"etag": hex_digest("md5", BODY)})
    sidecar = factories.sidecar_of(LATEST, "md5", hex_digest("md5", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.PASS
    assert finding.evidence.compared_with == "etag"


def test_md5_sidecar_differing_from_a_single_part_s3_etag_fails_and_mentions_encryption() -> None:
    head = factories.head_of(LATEST, checksums={"etag": hex_digest("md5", OTHER)})
    sidecar = factories.sidecar_of(LATEST, "md5", hex_digest("md5", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "SSE-KMS" in finding.message


def test_multipart_etag_is_not_compared_and_the_sidecar_is_left_to_the_restore_download() -> None:
    head = factories.head_of(LATEST, checksums={"etag": hex_digest("md5", OTHER) + "-4"})
    sidecar = factories.sidecar_of(LATEST, "md5", hex_digest("md5", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.PASS
    assert finding.evidence.verified_by == "restore download"


def test_sidecar_without_a_comparable_digest_passes_and_defers_to_the_restore_download() -> None:
    head = factories.head_of(LATEST, checksums={"crc32c": "AAAAAA=="})
    sidecar = factories.sidecar_of(LATEST, "sha256", hex_digest("sha256", BODY))
    finding = judge(PREVIOUS, LATEST, protection=head, sidecar=sidecar)
    assert finding.status is Status.PASS
    assert finding.evidence.sidecar_verdict == "deferred"
    assert finding.evidence.verified_by == "restore download"
    assert "restore drill verifies it" in finding.message


def test_every_problem_is_reported_in_one_finding_with_the_worst_severity() -> None:
    tiny = factories.snapshot("orders/orders-2.dump", size=100)
    head = factories.head_of(tiny, size=50, checksums={"sha256": base64_digest("sha256", OTHER)})
    sidecar = factories.sidecar_of(tiny, "sha256", hex_digest("sha256", BODY))
    finding = judge(PREVIOUS, tiny, protection=head, sidecar=sidecar)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    problems = [p.problem for p in finding.evidence.problems]
    assert problems == ["shrank", "size_mismatch", "sidecar_mismatch"]


def test_unreadable_metadata_is_an_error_with_the_reason() -> None:
    reason = "s3:GetObject denied on orders/orders-2.dump."
    finding = judge(PREVIOUS, LATEST, protection=Unavailable(reason))
    assert finding.status is Status.ERROR
    assert reason in finding.message


def test_unreadable_sidecar_is_an_error_with_the_reason() -> None:
    reason = "Sidecar orders/orders-2.dump.sha256 does not start with a sha256 digest."
    finding = judge(PREVIOUS, LATEST, sidecar=Unavailable(reason))
    assert finding.status is Status.ERROR
    assert reason in finding.message


def test_an_empty_snapshot_still_fails_loudly_when_its_metadata_is_unreadable() -> None:
    empty = factories.snapshot("orders/orders-2.dump", size=0)
    reason = "s3:GetObject denied on orders/orders-2.dump."
    finding = judge(PREVIOUS, empty, protection=Unavailable(reason))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert list(finding.evidence.not_verified) == [reason]
    assert "is empty" in finding.message and f"Not verified: {reason}" in finding.message


def test_unreadable_listing_is_an_error() -> None:
    facts = factories.latest_facts(
        Unavailable("s3:ListBucket denied."), protection=Unavailable("s3:ListBucket denied.")
    )
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.ERROR
    assert "s3:ListBucket denied" in finding.message


def test_no_snapshot_is_skipped_because_freshness_fails_it() -> None:
    facts = factories.latest_facts(
        SnapshotListing(pattern="orders/*.dump", count=0, newest=()), protection=None
    )
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.SKIPPED
    assert "freshness already fails" in finding.message
