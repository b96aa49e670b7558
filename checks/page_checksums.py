"""page_checksums: every page of a recovered physical backup passes its data checksum."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from drill.facts import RestoreFacts, known
from drill.model import Control, Evidence, Phase, Scope, Severity
from drill.registry import Outcome, check


@dataclass(frozen=True)
class PageChecksumsEvidence(Evidence):
    """What ``pg_checksums --check`` said about the recovered, stopped cluster."""

    kind: ClassVar[str] = "page_checksums"
    enabled: bool
    exit_status: int | None
    report: str | None  # its last lines


@check(
    "page_checksums",
    severity=Severity.CRITICAL,
    scope=Scope.RESTORE,
    controls=(Control.ISO27001_A_8_13,),
    phase=Phase.RESTORE,
    remediation=(
        "A page whose checksum fails is corrupt in the backup (or was corrupt in the source when it was "
        "backed up): check the source with pg_checksums or amcheck, and keep the backups before the damage. "
        "Where checksums are off, turn them on (pg_checksums --enable, on a stopped cluster)."
    ),
    evidence=(PageChecksumsEvidence,),
)
def page_checksums(facts: RestoreFacts) -> Iterator[Outcome]:
    """The recovered cluster's pages all pass their data checksums."""
    outcome = known(facts.outcome)
    checksums = outcome.checksums
    if checksums is None:
        reason = (
            "nothing was recovered; see the restore finding"
            if outcome.dump_format == "pgbackrest"
            else "a dump carries no pages"
        )
        yield Outcome.skipped(f"No page checksums to check: {reason}.")
        return
    evidence = PageChecksumsEvidence(checksums.enabled, checksums.status, checksums.report)
    if not checksums.enabled:
        yield Outcome.warned(
            "Data checksums are off in the backed-up cluster: a corrupt page restores unnoticed.", evidence
        )
    elif checksums.not_run:
        yield Outcome.skipped(f"pg_checksums was not run: {checksums.not_run}.", evidence)
    elif checksums.status is None:
        yield Outcome.errored(f"pg_checksums did not finish: {checksums.report}", evidence)
    elif checksums.status != 0:
        yield Outcome.failed(
            f"pg_checksums found corrupt pages in the recovered backup: {checksums.report}", evidence
        )
    else:
        yield Outcome.passed(f"Every page passes its checksum ({_summary(checksums.report)}).", evidence)


def _summary(report: str | None) -> str:
    lines = dict(line.split(":", 1) for line in (report or "").splitlines() if ":" in line)
    blocks = lines.get("Blocks scanned", "?").strip()
    files = lines.get("Files scanned", "?").strip()
    return f"{blocks} blocks in {files} files"
