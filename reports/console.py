"""The compact table printed at the end of ``drill check`` and ``drill run``: failures first."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drill.checks.restore import RestoreEvidence
from drill.model import WORST_FIRST, DrillRun, Finding, Status

_STYLE = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.SKIPPED: "dim",
}


def ordered(findings: tuple[Finding, ...]) -> list[Finding]:
    """Failures first, then by check and subject, so the table reads worst-first and stays stable."""
    return sorted(findings, key=lambda finding: (WORST_FIRST[finding.status], finding.check, finding.subject))


def _listed(subjects: list[str], shown: int = 5) -> str:
    more = len(subjects) - shown
    return ", ".join(subjects[:shown]) + (f" and {more} more" if more > 0 else "")


def findings_table(run: DrillRun) -> Table:
    """Every finding that is not a pass on its own row; passes as one row per check, so that a
    large estate's CI log stays short and the report carries the detail."""
    table = Table(show_lines=False, header_style="bold", expand=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("subject", overflow="fold")
    table.add_column("reason", overflow="fold")
    passes: dict[str, list[Finding]] = {}
    for finding in ordered(run.findings):
        if finding.status is Status.PASS:
            passes.setdefault(finding.check, []).append(finding)
            continue
        # Text, not str: a str cell is read as rich markup, and a name from storage is data.
        table.add_row(
            Text(finding.status.value.upper(), style=_STYLE[finding.status]),
            Text(finding.check),
            Text(finding.subject),
            Text(finding.message),
        )
    for check, passed in passes.items():
        only = passed[0] if len(passed) == 1 else None
        table.add_row(
            Text(Status.PASS.value.upper(), style=_STYLE[Status.PASS]),
            Text(check),
            Text(only.subject if only else f"{len(passed)} subjects"),
            Text(only.message if only else _listed([finding.subject for finding in passed])),
        )
    return table


def print_recovery_times(run: DrillRun, console: Console) -> None:
    """The measured RTO of each drilled database, beside its target when one is set."""
    for finding in run.findings:
        restored = finding.evidence
        if (
            finding.check != "restore"
            or not isinstance(restored, RestoreEvidence)
            or not restored.total_seconds
        ):
            continue
        rto = f" (RTO target {restored.rto_seconds:.0f}s)" if restored.rto_seconds else ""
        console.print(
            f"{finding.database}: recovered in {restored.total_seconds:.1f}s{rto}: download "
            f"{restored.download_seconds:.1f}s, server start {restored.server_wait_seconds:.1f}s, "
            f"restore {restored.restore_seconds:.1f}s, verify {restored.verify_seconds:.1f}s",
            markup=False,
            highlight=False,
        )
        if restored.kept:
            console.print(
                f"{finding.database}: kept for inspection: {restored.kept}", markup=False, highlight=False
            )


def print_run(run: DrillRun, console: Console) -> None:
    console.print(findings_table(run))
    print_recovery_times(run, console)
    counts = ", ".join(f"{count} {status}" for status, count in run.counts().items() if count)
    verdict = Text(run.status.value.upper(), style=_STYLE[run.status])
    console.print(
        Text.assemble("Verdict: ", verdict, f" ({counts or 'no findings'}) in {run.duration_seconds:.1f}s")
    )
    if run.interrupted is not None:
        console.print(Text(run.interrupted.describe(), style=_STYLE[Status.ERROR]))
