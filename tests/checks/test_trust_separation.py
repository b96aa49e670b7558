"""trust_separation judges an agent's permission answers against the bucket's protection."""

from __future__ import annotations

from drill.config import Agent, Credentials, TargetType
from drill.engine import evaluate
from drill.facts import Answer
from drill.model import Finding, Severity, Status, Unavailable
from drill.permissions import S3_DESTRUCTIVE
from drill.registry import discover
from tests import factories, postures, trust

SPEC = next(spec for spec in discover() if spec.id == "trust_separation")
EVERYTHING = frozenset(S3_DESTRUCTIVE)
BUCKET_CONFIG = frozenset(
    {
        "s3:PutBucketVersioning",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketObjectLockConfiguration",
        "s3:DeleteBucket",
    }
)


def judge(facts: trust.AgentTargetFacts) -> Finding:
    [finding] = evaluate(SPEC, facts)
    return finding


def test_an_agent_with_every_permission_on_an_unlocked_bucket_fails_critical() -> None:
    finding = judge(trust.agent_target(trust.access(allowed=EVERYTHING), trust.plain_s3()))
    assert finding.status is Status.FAIL and finding.severity is Severity.CRITICAL
    assert "could destroy" in finding.message
    assert "s3:DeleteObject (deletes snapshots outright" in finding.message
    assert finding.agent == "coder" and finding.target == "vault"


def test_the_same_agent_against_a_compliance_locked_bucket_only_warns() -> None:
    finding = judge(trust.agent_target(trust.access(allowed=EVERYTHING), trust.locked_s3()))
    assert finding.status is Status.WARN
    assert "cannot destroy" in finding.message and "COMPLIANCE" in finding.message
    assert finding.evidence.locked is True


def test_probes_that_leave_bucket_configuration_unknown_still_warn_on_a_locked_bucket() -> None:
    # What moto can answer: object permissions by probe, bucket configuration not at all.
    answers = trust.access(allowed={"s3:DeleteObjectVersion", "s3:PutObject"}, unknown=BUCKET_CONFIG)
    finding = judge(trust.agent_target(answers, trust.locked_s3()))
    assert finding.status is Status.WARN
    assert "not verified" in finding.message


def test_unknown_bucket_configuration_on_an_unlocked_bucket_is_an_error_not_a_pass() -> None:
    finding = judge(
        trust.agent_target(trust.access(unknown=BUCKET_CONFIG), trust.plain_s3(versioning="Enabled"))
    )
    assert finding.status is Status.ERROR
    assert "s3:PutLifecycleConfiguration" in finding.message


def test_a_read_only_agent_in_another_account_passes_naming_the_separation() -> None:
    answers = trust.access(who=trust.identity(account="222222222222"))
    finding = judge(trust.agent_target(answers, trust.plain_s3()))
    assert finding.status is Status.PASS
    assert "another account: 222222222222" in finding.message
    assert finding.evidence.evidence[0] == "identity"


def test_delete_markers_alone_on_a_versioned_unlocked_bucket_warn() -> None:
    answers = trust.access(allowed={"s3:DeleteObject"})
    finding = judge(trust.agent_target(answers, trust.plain_s3(versioning="Enabled")))
    assert finding.status is Status.WARN


def test_suspending_versioning_weakens_and_is_critical_without_any_locked_copy() -> None:
    answers = trust.access(allowed={"s3:PutBucketVersioning"})
    finding = judge(trust.agent_target(answers, trust.plain_s3(versioning="Enabled")))
    assert finding.status is Status.FAIL and finding.severity is Severity.CRITICAL
    assert "weaken" in finding.message


def test_governance_bypass_on_the_only_locked_copy_is_critical() -> None:
    governance = trust.storage(
        postures.s3(mode="GOVERNANCE"),
        postures.locked_object(mode="GOVERNANCE"),
        target_model=factories.target(),
    )
    finding = judge(trust.agent_target(trust.access(allowed={"s3:BypassGovernanceRetention"}), governance))
    assert finding.status is Status.FAIL and finding.severity is Severity.CRITICAL


def test_the_backup_writer_principal_is_a_critical_failure_whatever_the_permissions() -> None:
    writer = "arn:aws:iam::111111111111:user/agent"
    storage = trust.storage(
        postures.s3(), postures.locked_object(), target_model=factories.target(writer=writer)
    )
    finding = judge(trust.agent_target(trust.access(), storage))
    assert finding.status is Status.FAIL and finding.severity is Severity.CRITICAL
    assert "writes the backups" in finding.message


def test_unreadable_evidence_is_an_error() -> None:
    finding = judge(
        trust.agent_target(
            Unavailable("sts:GetCallerIdentity failed: InvalidClientTokenId"), trust.locked_s3()
        )
    )
    assert finding.status is Status.ERROR and "InvalidClientTokenId" in finding.message


def test_an_unreadable_bucket_posture_is_an_error() -> None:
    storage = trust.storage(Unavailable("GetObjectLockConfiguration: AccessDenied"), None)
    finding = judge(trust.agent_target(trust.access(), storage))
    assert finding.status is Status.ERROR


def test_an_agent_without_credentials_for_the_provider_passes() -> None:
    agent = Agent(name="coder", credentials=Credentials(service_account_file="/keys/sa.json"))
    finding = judge(trust.agent_target(None, trust.plain_s3(), agent=agent))
    assert finding.status is Status.PASS and "gcp credentials only" in finding.message


def test_gcs_without_a_locked_policy_fails_and_with_one_warns() -> None:
    gcs_target = factories.target(type=TargetType.GCS)
    allowed = {"storage.objects.delete"}
    unlocked = trust.storage(postures.gcs(locked=False), None, target_model=gcs_target)
    assert judge(trust.agent_target(trust.access(allowed=allowed, gcs=True), unlocked)).status is Status.FAIL
    locked = trust.storage(postures.gcs(), None, target_model=gcs_target)
    assert judge(trust.agent_target(trust.access(allowed=allowed, gcs=True), locked)).status is Status.WARN
    assert judge(trust.agent_target(trust.access(gcs=True), locked)).status is Status.PASS


def test_a_filesystem_copy_inside_the_agents_paths_fails_and_outside_is_skipped() -> None:
    fs_target = factories.target("nas", type=TargetType.FILESYSTEM)
    storage = trust.storage(postures.filesystem(), None, target_model=fs_target)
    inside = judge(trust.agent_target(None, storage, reaches=True))
    assert inside.status is Status.FAIL and inside.severity is Severity.CRITICAL
    assert judge(trust.agent_target(None, storage, reaches=False)).status is Status.SKIPPED


def test_weakening_one_copy_while_another_copy_is_locked_is_high_not_critical() -> None:
    governance = trust.storage(
        postures.s3(mode="GOVERNANCE"),
        postures.locked_object(mode="GOVERNANCE"),
        target_model=factories.target(),
    )
    finding = judge(
        trust.agent_target(
            trust.access(allowed={"s3:PutBucketPolicy"}), governance, peers=(trust.locked_s3("vault-2"),)
        )
    )
    assert finding.status is Status.FAIL and finding.severity is Severity.HIGH
    assert "locked copies survive on vault-2" in finding.message
    assert list(finding.evidence.other_immutable_copies) == ["vault-2"]


def test_a_writer_given_as_a_role_matches_the_sessions_of_that_role() -> None:
    session = trust.Identity(
        "aws",
        trust.OWNER,
        f"arn:aws:sts::{trust.OWNER}:assumed-role/backup-writer/nightly",
        "sts:GetCallerIdentity",
    )
    role = f"arn:aws:iam::{trust.OWNER}:role/jobs/backup-writer"
    storage = trust.storage(
        postures.s3(), postures.locked_object(), target_model=factories.target(writer=role)
    )
    finding = judge(trust.agent_target(trust.access(who=session), storage))
    assert finding.status is Status.FAIL and "writes the backups" in finding.message
    other = f"arn:aws:iam::{trust.OWNER}:role/backup-reader"
    storage = trust.storage(
        postures.s3(), postures.locked_object(), target_model=factories.target(writer=other)
    )
    assert judge(trust.agent_target(trust.access(who=session), storage)).status is Status.PASS


def test_the_finding_names_the_granting_statement_and_the_chain_of_roles() -> None:
    answers = trust.access(
        allowed={"s3:DeleteObjectVersion"},
        grant="role backup-admin, inline policy 'admin', statement 1",
        via=("backup-admin",),
    )
    finding = judge(trust.agent_target(answers, trust.plain_s3()))
    assert finding.status is Status.FAIL
    assert "coder -> assume backup-admin -> s3:DeleteObjectVersion" in finding.message
    assert "granted by role backup-admin, inline policy 'admin', statement 1" in finding.message
    [row] = [row for row in finding.evidence.permissions if row.permission == "s3:DeleteObjectVersion"]
    assert row.via == ("backup-admin",) and row.grant.startswith("role backup-admin")


def test_power_to_change_iam_fails_on_an_unlocked_bucket_and_warns_on_a_locked_one() -> None:
    answers = trust.access(escalation=(trust.escalation(),))
    unlocked = judge(trust.agent_target(answers, trust.plain_s3()))
    assert unlocked.status is Status.FAIL and "coder -> iam:PutUserPolicy" in unlocked.message
    assert "one step from any permission" in unlocked.message
    assert unlocked.evidence.escalation[0].effect == "escalate"
    # Whatever it grants itself, COMPLIANCE-locked versions survive: it can hide, not destroy.
    assert judge(trust.agent_target(answers, trust.locked_s3())).status is Status.WARN


def test_power_one_step_away_that_drill_cannot_read_is_an_error_never_a_pass() -> None:
    answers = trust.access(escalation=(trust.escalation("iam:*", Answer.UNKNOWN),))
    finding = judge(trust.agent_target(answers, trust.plain_s3()))
    assert finding.status is Status.ERROR and "iam:*" in finding.message


def test_an_agent_on_the_default_chain_that_drill_cannot_load_is_an_error() -> None:
    agent = Agent(name="coder", credentials=Credentials())
    # Nothing loaded, so nothing answered: every permission is unknown.
    answers = trust.access(
        who=Unavailable("sts:GetCallerIdentity found no AWS credentials"), unknown=EVERYTHING
    )
    finding = judge(trust.agent_target(answers, trust.plain_s3(), agent=agent))
    assert finding.status is Status.ERROR
    assert "default chain" in finding.message and "cannot judge what it cannot load" in finding.message


def test_an_unknown_owner_takes_no_another_account_shortcut_in_the_message() -> None:
    answers = trust.access(who=trust.identity(account="222222222222"), owner=None)
    finding = judge(trust.agent_target(answers, trust.plain_s3()))
    assert finding.status is Status.PASS and "another account" not in finding.message
