from dataclasses import replace
from datetime import timedelta
from typing import Any

from drill.checks.immutability import immutability
from drill.config import Policy, TargetType
from drill.engine import evaluate
from drill.facts import BucketPosture, ObjectProtection, TargetFacts
from drill.model import Finding, Severity, Status, Unavailable
from tests import factories, postures

SPEC = immutability.__drill_check__  # type: ignore[attr-defined]


def judge(
    posture: BucketPosture | Unavailable,
    protection: ObjectProtection | Unavailable | None = None,
    *,
    policy: Policy | None = None,
    **target: Any,
) -> Finding:
    target_model = factories.target(**target)
    copy = factories.database_target_facts(
        factories.listing(factories.snapshot()), target_model=target_model, policy=policy
    )
    copy = replace(copy, posture=posture, protection=protection or postures.locked_object())
    facts = TargetFacts(
        target=target_model, policy=policy or Policy(), now=factories.NOW, posture=posture, latest=(copy,)
    )
    [finding] = evaluate(SPEC, facts)
    return finding


# S3


def test_s3_compliance_lock_on_bucket_and_object_passes() -> None:
    finding = judge(postures.s3())
    assert finding.status is Status.PASS
    assert "COMPLIANCE" in finding.message
    assert finding.evidence.objects[0].object_lock_mode == "COMPLIANCE"


def test_s3_without_object_lock_fails() -> None:
    finding = judge(
        postures.s3(lock=False, mode=None, days=None), postures.locked_object(mode=None, locked_for=None)
    )
    assert finding.status is Status.FAIL
    assert "does not have Object Lock enabled" in finding.message
    assert "carries no Object Lock retention" in finding.message
    assert finding.remediation


def test_s3_with_versioning_suspended_fails() -> None:
    finding = judge(postures.s3(versioning="Suspended"))
    assert finding.status is Status.FAIL
    assert "versioning Suspended" in finding.message


def test_s3_governance_mode_fails_by_default() -> None:
    finding = judge(postures.s3(mode="GOVERNANCE"), postures.locked_object(mode="GOVERNANCE"))
    assert finding.status is Status.FAIL
    assert "GOVERNANCE" in finding.message and "BypassGovernanceRetention" in finding.message


def test_s3_governance_mode_is_a_warning_when_the_policy_allows_it() -> None:
    finding = judge(
        postures.s3(mode="GOVERNANCE"),
        postures.locked_object(mode="GOVERNANCE"),
        policy=Policy(governance_is_warning=True),
    )
    assert finding.status is Status.WARN


def test_s3_default_retention_shorter_than_policy_fails() -> None:
    finding = judge(postures.s3(days=7), postures.locked_object(locked_for=timedelta(days=7)))
    assert finding.status is Status.FAIL
    assert "7 days, shorter than the required 30" in finding.message


def test_s3_object_locked_for_less_than_min_retention_fails_even_if_the_bucket_default_is_long() -> None:
    finding = judge(postures.s3(days=90), postures.locked_object(locked_for=timedelta(days=3)))
    assert finding.status is Status.FAIL
    assert "locked until" in finding.message and "required" in finding.message


def test_s3_object_written_before_the_lock_rule_fails() -> None:
    finding = judge(postures.s3(), postures.locked_object(mode=None, locked_for=None))
    assert finding.status is Status.FAIL
    assert "carries no Object Lock retention" in finding.message


def test_s3_legal_hold_is_noted_as_evidence() -> None:
    finding = judge(postures.s3(), postures.locked_object(legal_hold=True))
    assert finding.status is Status.PASS
    assert any("legal hold" in proof for proof in finding.evidence.proofs)


def test_s3_unreadable_lock_configuration_is_an_error_not_a_failure() -> None:
    denied = Unavailable("s3:GetBucketObjectLockConfiguration denied on bucket vault-bucket (target vault).")
    finding = judge(postures.s3(lock=denied))
    assert finding.status is Status.ERROR
    assert "GetBucketObjectLockConfiguration denied" in finding.message


def test_an_unreadable_bucket_is_an_error() -> None:
    finding = judge(Unavailable("Bucket vault-bucket of target vault does not exist."))
    assert finding.status is Status.ERROR
    assert finding.severity is Severity.HIGH


# GCS


def test_gcs_locked_retention_policy_passes() -> None:
    finding = judge(postures.gcs(period_days=45), None, type=TargetType.GCS)
    assert finding.status is Status.PASS
    assert "locked retention policy" in finding.message


def test_gcs_unlocked_retention_policy_fails() -> None:
    finding = judge(postures.gcs(locked=False), postures.locked_object(mode=None), type=TargetType.GCS)
    assert finding.status is Status.FAIL
    assert "not locked" in finding.message and "storage.buckets.update" in finding.message


def test_gcs_locked_policy_shorter_than_min_retention_fails() -> None:
    finding = judge(postures.gcs(period_days=7), postures.locked_object(mode=None), type=TargetType.GCS)
    assert finding.status is Status.FAIL
    assert "shorter than the required" in finding.message


def test_gcs_locked_object_retention_passes_without_a_bucket_policy() -> None:
    finding = judge(
        postures.gcs(period_days=None, locked=False),
        postures.locked_object(mode="Locked", locked_for=timedelta(days=60)),
        type=TargetType.GCS,
    )
    assert finding.status is Status.PASS
    assert "Locked object retention" in finding.message


def test_gcs_unlocked_object_retention_does_not_count() -> None:
    finding = judge(
        postures.gcs(period_days=None, locked=False),
        postures.locked_object(mode="Unlocked", locked_for=timedelta(days=60)),
        type=TargetType.GCS,
    )
    assert finding.status is Status.FAIL
    assert "no retention policy" in finding.message


def test_gcs_soft_delete_and_versioning_are_reported_as_evidence() -> None:
    finding = judge(postures.gcs(versioning=True, soft_delete_days=7), None, type=TargetType.GCS)
    [objects] = finding.evidence.objects
    assert objects.versioning is True and objects.soft_delete_seconds == 7 * 86400


# Filesystem


def test_filesystem_immutable_attribute_is_proof() -> None:
    finding = judge(
        postures.filesystem(),
        postures.locked_object(mode=None, locked_for=None, immutable_attribute=True),
        type=TargetType.FILESYSTEM,
        immutable=True,
    )
    assert finding.status is Status.PASS
    assert "immutable attribute" in finding.message


def test_filesystem_read_only_mount_is_proof() -> None:
    finding = judge(
        postures.filesystem(read_only=True),
        postures.locked_object(mode=None, locked_for=None),
        type=TargetType.FILESYSTEM,
        immutable=True,
    )
    assert finding.status is Status.PASS
    assert "read-only" in finding.message


def test_filesystem_declared_immutable_without_proof_fails() -> None:
    finding = judge(
        postures.filesystem(),
        postures.locked_object(mode=None, locked_for=None),
        type=TargetType.FILESYSTEM,
        immutable=True,
    )
    assert finding.status is Status.FAIL
    assert "writable mount" in finding.message


def test_filesystem_not_declared_immutable_is_only_a_warning() -> None:
    finding = judge(
        postures.filesystem(),
        postures.locked_object(mode=None, locked_for=None),
        type=TargetType.FILESYSTEM,
    )
    assert finding.status is Status.WARN
    assert "Not required for this target" in finding.message
