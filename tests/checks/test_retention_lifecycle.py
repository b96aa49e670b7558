from dataclasses import replace
from datetime import timedelta

from drill.checks.retention_lifecycle import retention_lifecycle
from drill.config import Database, Policy, Target, TargetType
from drill.engine import evaluate
from drill.facts import LifecycleRule, S3BucketPosture, Unavailable
from drill.model import Finding, Severity, Status
from tests import factories, stanza_facts

SPEC = retention_lifecycle.__drill_check__  # type: ignore[attr-defined]


def judge(
    *rules: LifecycleRule,
    policy: Policy | None = None,
    target_model: Target | None = None,
    databases: tuple[Database, ...] | None = None,
    gcs: bool = False,
) -> Finding:
    posture = (factories.gcs_lifecycle_posture if gcs else factories.s3_lifecycle_posture)(*rules)
    facts = factories.target_posture_facts(
        posture, policy=policy, target_model=target_model, databases=databases
    )
    [finding] = evaluate(SPEC, facts)
    return finding


def test_rule_expiring_current_versions_sooner_than_min_retention_fails_naming_the_rule() -> None:
    rule = factories.lifecycle_rule("purge-weekly", prefix="orders/", current_days=7)
    finding = judge(rule)
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.HIGH
    assert "'purge-weekly' expires current versions after 7 days" in finding.message
    assert "30 days" in finding.message
    assert list(finding.evidence.offending) == ["purge-weekly"]
    assert finding.evidence.rules[0].raw == {
        "ID": "purge-weekly",
        "Status": "Enabled",
        "Filter": {"Prefix": "orders/"},
        "Expiration": {"Days": 7},
    }
    assert finding.remediation and finding.remediation.endswith(".")


def test_rule_deleting_noncurrent_versions_sooner_than_min_retention_fails() -> None:
    rule = factories.lifecycle_rule("tidy-versions", current_days=365, noncurrent_days=1)
    finding = judge(rule)
    assert finding.status is Status.FAIL
    assert "'tidy-versions' deletes noncurrent versions 1 day after they become noncurrent" in finding.message
    assert "current versions after 365" not in finding.message  # only the offending action is named
    assert list(finding.evidence.rules[0].too_soon) == ["noncurrent"]


def test_expiration_date_sooner_than_now_plus_min_retention_fails() -> None:
    rule = factories.lifecycle_rule("sunset", expire_on=factories.NOW + timedelta(days=10))
    finding = judge(rule)
    assert finding.status is Status.FAIL
    assert "'sunset' expires every matching object on 2026-12-02" in finding.message


def test_expiration_date_beyond_now_plus_min_retention_passes_for_now() -> None:
    rule = factories.lifecycle_rule("sunset", expire_on=factories.NOW + timedelta(days=31))
    finding = judge(rule)
    assert finding.status is Status.PASS
    assert finding.evidence.rules[0].expire_on.isoformat().startswith("2026-12-23")


def test_rule_for_another_prefix_passes_and_says_why_it_was_ignored() -> None:
    rule = factories.lifecycle_rule("logs", prefix="logs/", current_days=3)
    finding = judge(rule)
    assert finding.status is Status.PASS
    assert finding.evidence.ignored[0].rule_id == "logs"
    assert "covers no snapshot pattern" in finding.evidence.ignored[0].reason
    assert finding.remediation is None


def test_rule_whose_prefix_narrows_into_the_pattern_is_treated_as_applying() -> None:
    rule = factories.lifecycle_rule("old-orders", prefix="orders/orders-2025", current_days=3)
    assert judge(rule).status is Status.FAIL


def test_rule_on_a_parent_of_the_target_prefix_applies_to_the_snapshots() -> None:
    rule = factories.lifecycle_rule("everything-prod", prefix="prod/", current_days=3)
    finding = judge(rule, target_model=factories.target(prefix="prod/db"))
    assert finding.status is Status.FAIL
    assert list(finding.evidence.snapshot_patterns) == ["prod/db/orders/*.dump"]


def test_rule_at_exactly_min_retention_passes_with_the_rule_as_evidence() -> None:
    rule = factories.lifecycle_rule("keep-30", current_days=30, noncurrent_days=30)
    finding = judge(rule)
    assert finding.status is Status.PASS
    assert "'keep-30'" in finding.message
    assert finding.evidence.rules[0].rule_id == "keep-30"
    assert list(finding.evidence.rules[0].too_soon) == []


def test_min_retention_is_read_from_the_policy() -> None:
    rule = factories.lifecycle_rule("keep-30", current_days=30)
    finding = judge(rule, policy=Policy(min_retention=timedelta(days=90)))
    assert finding.status is Status.FAIL
    assert "90 days" in finding.message


def test_disabled_rule_passes() -> None:
    rule = factories.lifecycle_rule("paused", current_days=1, enabled=False)
    finding = judge(rule)
    assert finding.status is Status.PASS
    assert finding.evidence.ignored[0].reason == "disabled"


def test_rule_with_filter_drill_cannot_evaluate_is_assumed_to_apply_and_says_so() -> None:
    rule = factories.lifecycle_rule("cold-tier", current_days=5, conditions_unknown=True)
    finding = judge(rule)
    assert finding.status is Status.FAIL
    assert "cannot be evaluated by drill, so it is assumed to apply" in finding.message
    assert finding.evidence.rules[0].conditions_unknown is True


def test_every_offending_rule_is_named() -> None:
    rules = (
        factories.lifecycle_rule("a", current_days=2),
        factories.lifecycle_rule("b", noncurrent_days=5),
        factories.lifecycle_rule("c", current_days=400),
    )
    finding = judge(*rules)
    assert finding.status is Status.FAIL
    assert list(finding.evidence.offending) == ["a", "b"]
    assert "'a'" in finding.message and "'b'" in finding.message and "'c'" not in finding.message


def test_gcs_delete_by_age_sooner_than_min_retention_fails() -> None:
    rule = factories.gcs_lifecycle_rule("lifecycle[0]", age_days=14)
    finding = judge(rule, gcs=True)
    assert finding.status is Status.FAIL
    assert "'lifecycle[0]' expires current versions after 14 days" in finding.message
    assert finding.evidence.rules[0].raw == {"action": {"type": "Delete"}, "condition": {"age": 14}}


def test_gcs_delete_of_noncurrent_versions_sooner_than_min_retention_fails() -> None:
    rule = factories.gcs_lifecycle_rule("lifecycle[1]", prefix="orders/", noncurrent_days=7)
    assert judge(rule, gcs=True).status is Status.FAIL


def test_gcs_delete_beyond_min_retention_passes() -> None:
    rule = factories.gcs_lifecycle_rule("lifecycle[0]", age_days=90, noncurrent_days=30)
    assert judge(rule, gcs=True).status is Status.PASS


def test_filesystem_target_is_skipped_with_a_reason() -> None:
    facts = factories.target_posture_facts(
        factories.unmounted_filesystem_posture(),
        target_model=factories.target(type=TargetType.FILESYSTEM),
    )
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.SKIPPED
    assert "filesystems have no lifecycle rules" in finding.message
    assert finding.remediation is None


def test_unreadable_lifecycle_is_an_error_carrying_the_reason() -> None:
    reason = "s3:GetLifecycleConfiguration denied on bucket vault-bucket."
    posture = S3BucketPosture(
        versioning="Enabled",
        object_lock_enabled=True,
        default_lock_mode="COMPLIANCE",
        default_lock_days=30,
        lifecycle=Unavailable(reason),
    )
    [finding] = evaluate(SPEC, factories.target_posture_facts(posture))
    assert finding.status is Status.ERROR
    assert reason in finding.message
    assert finding.evidence.reason == reason
    assert finding.target == "vault"


def test_unreadable_posture_is_an_error_never_a_verdict() -> None:
    facts = factories.target_posture_facts(Unavailable("Target vault: bucket vault-bucket does not exist."))
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.ERROR
    assert "does not exist" in finding.message


def test_bucket_without_lifecycle_rules_passes() -> None:
    finding = judge()
    assert finding.status is Status.PASS
    assert "no lifecycle rule deletes snapshots" in finding.message


def test_rule_that_covers_only_one_of_the_databases_still_fails_the_target() -> None:
    databases = (factories.database("orders"), factories.database("billing"))
    rule = factories.lifecycle_rule("billing-short", prefix="billing/", current_days=7)
    finding = judge(rule, databases=databases)
    assert finding.status is Status.FAIL
    assert list(finding.evidence.snapshot_patterns) == ["billing/*.dump", "orders/*.dump"]


def test_gcs_created_before_a_date_inside_the_retention_window_fails() -> None:
    # A snapshot written 10 days ago was created before this date and is still owed 20 days.
    rule = factories.gcs_lifecycle_rule(created_before=factories.NOW - timedelta(days=5))
    finding = judge(rule, gcs=True)
    assert finding.status is Status.FAIL
    assert "deletes every matching object created before" in finding.message


def test_gcs_created_before_a_date_older_than_the_retention_window_passes() -> None:
    # Only objects older than 60 days match: every snapshot still inside 30 days of retention is safe.
    rule = factories.gcs_lifecycle_rule(created_before=factories.NOW - timedelta(days=60))
    finding = judge(rule, gcs=True)
    assert finding.status is Status.PASS


def test_a_rule_on_a_pgbackrest_repositorys_path_is_judged_against_the_whole_repository() -> None:
    # A stanza's database has no snapshot pattern: the rule on the repository's WAL counts too.
    repository = factories.target("cloud.repo1", prefix="pgbackrest")
    ledger = Database(name="ledger", site="dc-1", targets=("cloud",))
    facts = factories.target_posture_facts(
        factories.s3_lifecycle_posture(
            factories.lifecycle_rule("wal-purge", prefix="pgbackrest/archive/", current_days=7)
        ),
        target_model=repository,
        databases=(factories.database(),),
    )
    copy = replace(facts.latest[0], database=ledger, repository=stanza_facts.repo())
    [finding] = evaluate(SPEC, replace(facts, latest=(copy,)))
    assert finding.status is Status.FAIL and "wal-purge" in finding.message
    other = factories.target_posture_facts(
        factories.s3_lifecycle_posture(factories.lifecycle_rule("logs", prefix="logs/", current_days=7)),
        target_model=repository,
    )
    copy = replace(other.latest[0], database=ledger, repository=stanza_facts.repo())
    [finding] = evaluate(SPEC, replace(other, latest=(copy,)))
    assert finding.status is Status.PASS
