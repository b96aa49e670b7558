"""``drill report`` and ``drill verify-pack``: the evidence pack of a review period, and its check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from drill.cli.common import error, load, usage_error
from drill.exits import Exit


def report(
    *,
    since: Annotated[
        str,
        typer.Option("--since", help="First day of the review period (YYYY-MM-DD, UTC).", show_default=False),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The archive to write (a .zip).", show_default=False)
    ],
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Last day of the period, inclusive (default: today, UTC).", show_default=False
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="The drill config whose report dir holds the runs.", show_default=False
        ),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report-dir", help="The report directory itself, instead of a config.", show_default=False
        ),
    ] = None,
) -> None:
    """Build the evidence pack of a review period: a summary page, every run's JSON and HTML, and a
    manifest of SHA-256 digests. Exit 0 when the period is proven, 3 when it is not."""
    from drill.reports.pack import build_pack
    from drill.reports.period import Period

    period = Period(
        _day("--since", since),
        _day("--until", until) if until else datetime.now(UTC).date(),
    )
    if period.since > period.until:
        usage_error(f"--since {period.since} is after --until {period.until}.")
    directory = _report_dir(config, report_dir)
    # A config may keep its baseline elsewhere ([baseline] path); a bare report dir keeps it inside.
    baseline = Path(load(config).config.baseline_path) if config is not None else None
    pack = build_pack(directory, period, out, baseline=baseline)
    summary = pack.summary
    runs = len(summary.runs)
    print(f"Evidence pack: {pack.path} ({runs} run{'' if runs == 1 else 's'}, {pack.files} files).")
    print(f"Period verdict: {summary.status.value.upper()}: {summary.verdict}")
    print(f"MANIFEST.sha256 SHA-256: {pack.manifest_sha256}")
    print(f"Archive SHA-256: {pack.archive_sha256}")
    print("Record these digests with the review: they show later that the pack was not replaced.")
    raise typer.Exit(Exit.FINDINGS if summary.status.is_failing else Exit.OK)


def verify_pack(
    pack: Annotated[
        Path, typer.Argument(help="An evidence pack written by drill report.", show_default=False)
    ],
) -> None:
    """Check every file of an evidence pack against its manifest; exit 3 on any difference."""
    from drill.reports import pack as packs

    try:
        verification = packs.verify_pack(pack)
    except packs.PackError as failure:  # fail closed: what cannot be verified did not verify
        error(f"FAILED: {failure}.")
        raise typer.Exit(Exit.FINDINGS) from None
    for label, names in (
        ("changed", verification.mismatched),
        ("missing", verification.missing),
        ("not in the manifest", verification.unlisted),
    ):
        for name in names:
            print(f"{label}: {name}")
    unnamed = verification.missing_total - len(verification.missing)
    if unnamed > 0:
        print(f"missing: {unnamed} more files the manifest lists")
    verdict = "OK" if verification.ok else "FAILED"
    print(
        f"{verdict}: {verification.checked} files checked against MANIFEST.sha256 "
        f"(its SHA-256 is {verification.manifest_sha256})."
    )
    raise typer.Exit(Exit.OK if verification.ok else Exit.FINDINGS)


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        usage_error(f"{option}: {text!r} is not a date; write it as YYYY-MM-DD.")


def _report_dir(config: Path | None, report_dir: Path | None) -> Path:
    if report_dir is None and config is not None:
        report_dir = Path(load(config).config.report.dir)
    elif report_dir is None or config is not None:
        usage_error("drill report: give either --config (its [report] dir is used) or --report-dir.")
    if not report_dir.is_dir():
        usage_error(f"{report_dir}: no such report directory; drill check and drill run write one.")
    return report_dir
