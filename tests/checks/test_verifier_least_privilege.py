"""verifier_least_privilege: drill's own credentials should hold no destructive permission."""

from __future__ import annotations

from drill.config import TargetType
from drill.engine import evaluate
from drill.model import Finding, Status, Unavailable
from drill.registry import discover
from tests import factories, postures, trust

SPEC = next(spec for spec in discover() if spec.id == "verifier_least_privilege")


def judge(facts: trust.VerifierTargetFacts) -> Finding:
    [finding] = evaluate(SPEC, facts)
    return finding


def test_read_only_credentials_pass() -> None:
    finding = judge(
        trust.verifier_target(trust.access(source=trust.EvidenceSource.SIMULATION), trust.plain_s3())
    )
    assert finding.status is Status.PASS
    assert finding.target == "vault" and finding.agent is None


def test_credentials_that_could_delete_fail_and_name_what_to_drop() -> None:
    answers = trust.access(
        allowed={"s3:DeleteObjectVersion", "s3:PutObject"},
        grant="group backup-writers, inline policy 'w', statement 1",
    )
    finding = judge(trust.verifier_target(answers, trust.plain_s3()))
    assert finding.status is Status.FAIL
    assert "drop s3:DeleteObjectVersion, s3:PutObject" in finding.message
    assert "granted by group backup-writers" in finding.message


def test_credentials_that_could_change_iam_fail() -> None:
    finding = judge(trust.verifier_target(trust.access(escalation=(trust.escalation(),)), trust.locked_s3()))
    assert finding.status is Status.FAIL and "iam:PutUserPolicy" in finding.message


def test_a_permission_harmless_under_compliance_is_still_one_to_drop() -> None:
    finding = judge(trust.verifier_target(trust.access(allowed={"s3:PutObjectRetention"}), trust.locked_s3()))
    assert finding.status is Status.WARN and "s3:PutObjectRetention" in finding.message


def test_unverifiable_permissions_are_an_error() -> None:
    answers = trust.access(unknown={"s3:PutBucketPolicy"})
    finding = judge(trust.verifier_target(answers, trust.plain_s3()))
    assert finding.status is Status.ERROR and "s3:PutBucketPolicy" in finding.message
    failed = judge(trust.verifier_target(Unavailable("InvalidAccessKeyId"), trust.plain_s3()))
    assert failed.status is Status.ERROR


def test_a_filesystem_copy_drill_could_write_warns_and_a_read_only_one_passes() -> None:
    storage = trust.storage(
        postures.filesystem(), None, target_model=factories.target("nas", type=TargetType.FILESYSTEM)
    )
    assert judge(trust.verifier_target(None, storage, writable=True)).status is Status.WARN
    assert judge(trust.verifier_target(None, storage, writable=False)).status is Status.PASS
    assert judge(trust.verifier_target(None, storage, writable=None)).status is Status.ERROR
