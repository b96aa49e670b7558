from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

from drill.engine import _with_proof, evaluate
from drill.facts import CollectedFacts, DatabaseTargetFacts, Unavailable, known
from drill.model import Evidence, Finding, Phase, Scope, Severity, Status
from drill.registry import Outcome, check
from tests import factories


@dataclass(frozen=True)
class OnlyCopy(Evidence):
    kind: ClassVar[str] = "escalates"
    copies: int


def _spec(function: object) -> object:
    return function.__drill_check__  # type: ignore[attr-defined]


def _facts() -> DatabaseTargetFacts:
    return factories.database_target_facts(factories.listing(factories.snapshot()))


@check("crashes", severity=Severity.HIGH, scope=Scope.DATABASE_TARGET, remediation="Fix the check.")
def crashes(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Raises."""
    raise ZeroDivisionError("division by zero")
    yield  # pragma: no cover


@check("silent", severity=Severity.LOW, scope=Scope.DATABASE_TARGET, remediation="Say something.")
def silent(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Yields nothing."""
    return iter(())


@check("needs_listing", severity=Severity.LOW, scope=Scope.DATABASE_TARGET, remediation="Grant the read.")
def needs_listing(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Reads the listing."""
    known(facts.listing)
    yield Outcome.passed("read it")


@check(
    "escalates",
    severity=Severity.LOW,
    scope=Scope.DATABASE_TARGET,
    remediation="Lock it.",
    phase=Phase.RESTORE,
    evidence=(OnlyCopy,),
)
def escalates(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Overrides its severity."""
    yield Outcome(Status.FAIL, "the only copy", OnlyCopy(copies=1), Severity.CRITICAL)


def test_a_crashing_check_becomes_an_error_finding_not_a_missing_one() -> None:
    [finding] = evaluate(_spec(crashes), _facts())  # type: ignore[arg-type]
    assert finding.status is Status.ERROR
    assert "crashed" in finding.message and "ZeroDivisionError" in finding.message
    assert finding.check == "crashes" and finding.database == "orders" and finding.target == "vault"


def test_a_check_that_reaches_no_verdict_is_an_error() -> None:
    [finding] = evaluate(_spec(silent), _facts())  # type: ignore[arg-type]
    assert finding.status is Status.ERROR
    assert "no verdict" in finding.message


def test_an_unavailable_fact_is_an_error_carrying_its_reason() -> None:
    facts = factories.database_target_facts(Unavailable("Bucket vault-bucket does not exist."))
    [finding] = evaluate(_spec(needs_listing), facts)  # type: ignore[arg-type]
    assert finding.status is Status.ERROR
    assert finding.evidence.reason == "Bucket vault-bucket does not exist."
    assert finding.remediation == "Grant the read."


def test_an_available_fact_lets_the_check_decide() -> None:
    [finding] = evaluate(_spec(needs_listing), _facts())  # type: ignore[arg-type]
    assert finding.status is Status.PASS
    assert finding.remediation is None


def test_an_outcome_may_raise_the_severity() -> None:
    [finding] = evaluate(_spec(escalates), _facts())  # type: ignore[arg-type]
    assert finding.severity is Severity.CRITICAL
    assert asdict(finding.evidence) == {"copies": 1}


@check("undeclared", severity=Severity.LOW, scope=Scope.DATABASE_TARGET, remediation="Declare it.")
def undeclared(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Records evidence it does not declare."""
    yield Outcome.passed("fine", OnlyCopy(copies=1))


def test_evidence_a_check_does_not_declare_is_an_error_not_an_unreadable_record() -> None:
    [finding] = evaluate(_spec(undeclared), _facts())  # type: ignore[arg-type]
    assert finding.status is Status.ERROR
    assert "does not declare" in finding.message and "OnlyCopy" in finding.message


def _proof(last: datetime | Unavailable | None, findings: list[Finding], drilled: set[str]) -> object:
    facts = replace(factories.database_facts(_facts()), last_passing_drill=last)
    collected = CollectedFacts(targets=(), databases=(facts,), database_targets=facts.copies)
    [proved] = _with_proof(collected, findings, drilled, factories.NOW).databases
    return proved.last_passing_drill


def test_this_runs_clean_drill_is_the_last_passing_one() -> None:
    earlier = factories.NOW - timedelta(days=40)
    assert _proof(earlier, [], {"orders"}) == factories.NOW
    assert _proof(None, [], {"orders"}) == factories.NOW


def test_a_failed_or_absent_drill_keeps_what_the_history_says() -> None:
    earlier = factories.NOW - timedelta(days=40)
    failed = Finding(
        check="restore", status=Status.FAIL, severity=Severity.CRITICAL, message="x", database="orders"
    )
    assert _proof(earlier, [failed], {"orders"}) == earlier
    assert _proof(earlier, [], set()) == earlier


def test_an_unreadable_history_stays_unavailable_even_after_a_clean_drill() -> None:
    unreadable = Unavailable("Cannot read the run history: permission denied.")
    assert _proof(unreadable, [], {"orders"}) == unreadable
