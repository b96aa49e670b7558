"""The drift check on hand-built records: one finding per difference, its status by direction."""

from __future__ import annotations

from drill.baseline.compare import Change
from drill.baseline.model import AgentRecord, Power, Setting
from drill.checks.drift import DriftEvidence, NoBaselineEvidence, NoDriftEvidence, drift
from drill.engine import evaluate
from drill.facts import DriftFacts, MissingBaseline, UnusableBaseline
from drill.model import Status
from tests.drift_records import DELETE, NOW, orders, pair, rule, vault

SPEC = drift.__drill_check__  # type: ignore[attr-defined]


def test_a_target_that_matches_its_baseline_passes_and_names_the_approval() -> None:
    [finding] = evaluate(SPEC, pair(vault(), vault()))
    assert finding.status is Status.PASS, finding.message
    assert "2026-11-02 09:30 UTC by alice" in finding.message
    assert isinstance(finding.evidence, NoDriftEvidence) and finding.evidence.approved_by == "alice"
    assert finding.target == "vault"


def test_a_shortened_lock_fails_saying_from_what_to_what() -> None:
    [finding] = evaluate(SPEC, pair(vault(days=30), vault(days=7)))
    assert finding.status is Status.FAIL
    assert "default lock days weakened from 30 to 7" in finding.message
    assert isinstance(finding.evidence, DriftEvidence)
    assert (finding.evidence.approved, finding.evidence.today) == ("30", "7")
    assert finding.evidence.change is Change.WEAKER
    assert finding.evidence.baseline_sha256 == "12" * 32


def test_a_longer_lock_is_a_warning_to_approve_again() -> None:
    [finding] = evaluate(SPEC, pair(vault(days=30), vault(days=90)))
    assert finding.status is Status.WARN
    assert "strengthened from 30 to 90" in finding.message and "approve again" in finding.message


def test_compliance_to_governance_is_weaker() -> None:
    [finding] = evaluate(SPEC, pair(vault(), vault(mode="GOVERNANCE")))
    assert finding.status is Status.FAIL and "from COMPLIANCE to GOVERNANCE" in finding.message


def test_a_new_lifecycle_rule_fails_and_a_removed_one_warns() -> None:
    purge = rule(expire_current_days=14)
    [added] = evaluate(SPEC, pair(vault(), vault(rules=(purge,))))
    assert added.status is Status.FAIL
    assert "lifecycle rule 'purge' was added" in added.message and "after 14 days" in added.message
    [removed] = evaluate(SPEC, pair(vault(rules=(purge,)), vault()))
    assert removed.status is Status.WARN and "was removed" in removed.message


def test_a_lifecycle_rule_that_deletes_sooner_fails_and_later_warns() -> None:
    [sooner] = evaluate(
        SPEC, pair(vault(rules=(rule(expire_current_days=90),)), vault(rules=(rule(expire_current_days=30),)))
    )
    assert sooner.status is Status.FAIL and "weakened" in sooner.message
    [later] = evaluate(
        SPEC, pair(vault(rules=(rule(expire_current_days=30),)), vault(rules=(rule(expire_current_days=90),)))
    )
    assert later.status is Status.WARN


def test_an_agent_granted_delete_fails_naming_the_permission_and_its_grant() -> None:
    [finding] = evaluate(SPEC, pair(vault(), vault(ci=(DELETE,))))
    assert finding.status is Status.FAIL
    assert "powers of agent ci" in finding.message and "gained s3:DeleteObjectVersion" in finding.message
    assert "inline policy 'ci-granted'" in finding.message
    [revoked] = evaluate(SPEC, pair(vault(ci=(DELETE,)), vault()))
    assert revoked.status is Status.WARN and "lost s3:DeleteObjectVersion" in revoked.message


def test_a_power_that_can_no_longer_be_ruled_out_is_an_error() -> None:
    unknown = Power(DELETE.permission, "unknown")
    [finding] = evaluate(SPEC, pair(vault(), vault(ci=(unknown,))))
    assert finding.status is Status.ERROR


def test_a_dropped_target_fails_once_on_the_target_not_again_on_its_databases() -> None:
    [target] = evaluate(SPEC, pair(vault(), None, targets=("offsite",)))
    assert target.status is Status.FAIL and "dropped from the config" in target.message
    [database] = evaluate(SPEC, pair(orders(), orders(("offsite",)), targets=("offsite",)))
    assert database.status is Status.PASS, database.message


def test_a_database_that_stops_copying_to_a_configured_target_fails() -> None:
    [finding] = evaluate(SPEC, pair(orders(), orders(("offsite",))))
    assert finding.status is Status.FAIL and "dropped vault" in finding.message


def test_a_new_target_warns_to_approve_again() -> None:
    [finding] = evaluate(SPEC, pair(None, vault()))
    assert finding.status is Status.WARN and "approve again" in finding.message


def test_a_setting_unread_today_is_an_error_never_a_pass() -> None:
    today = vault()
    unread = tuple(
        Setting(setting.name, unread="s3:GetBucketObjectLockConfiguration denied")
        if setting.name == "default lock days"
        else setting
        for setting in today.settings
    )
    [finding] = evaluate(SPEC, pair(vault(), vault(settings=unread)))
    assert finding.status is Status.ERROR and "could not be verified" in finding.message
    assert "denied" in finding.message


def test_no_baseline_is_skipped_unless_one_is_required() -> None:
    [noted] = evaluate(SPEC, DriftFacts(MissingBaseline("/r/baseline.json", required=False), NOW))
    assert noted.status is Status.SKIPPED and "drill baseline approve" in noted.message
    assert isinstance(noted.evidence, NoBaselineEvidence)
    [required] = evaluate(SPEC, DriftFacts(MissingBaseline("/r/baseline.json", required=True), NOW))
    assert required.status is Status.FAIL


def test_an_unusable_baseline_is_an_error_with_its_reason() -> None:
    state = UnusableBaseline(
        "/r/baseline.json", "its content does not match the SHA-256 it records", "00" * 32
    )
    [finding] = evaluate(SPEC, DriftFacts(state, NOW))
    assert finding.status is Status.ERROR
    assert "/r/baseline.json" in finding.message and "does not match the SHA-256" in finding.message


def test_a_dropped_agent_fails_once_on_the_agent_not_again_on_every_target() -> None:
    [agent] = evaluate(SPEC, pair(AgentRecord("ci", ("/srv/ci",)), None, agents=()))
    assert (agent.status, agent.agent) == (Status.FAIL, "ci") and "dropped from the config" in agent.message
    [target] = evaluate(SPEC, pair(vault(ci=(DELETE,)), vault(holders=vault().holders[:1]), agents=()))
    assert target.status is Status.PASS, target.message


def test_an_agent_scanning_fewer_paths_fails() -> None:
    [finding] = evaluate(
        SPEC, pair(AgentRecord("ci", ("/srv/ci", "/home/ci")), AgentRecord("ci", ("/srv/ci",)))
    )
    assert finding.status is Status.FAIL and "dropped /home/ci" in finding.message
