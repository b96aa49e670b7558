"""The measuring children of the report benchmark: each phase runs in a fresh process
(``bench/reports.py --phase NAME ...``) and returns its figures, printed as one JSON line.

Each call is timed with tracemalloc off (median of ``repeats``), then repeated once with it on
for the traced peak: the allocations above what the process already held.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report_estate import LARGE, MEDIUM, QUARTER
from bench.report_runs import RunFactory, large_run, quarter_moments
from drill import history

MiB = 1 << 20


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measured(call: Callable[[], Any], *, repeats: int = 1, trace: bool = True) -> tuple[Any, dict[str, Any]]:
    """Time ``call`` (median of ``repeats``, tracemalloc off), then run it once more traced."""
    rss_before = _rss_mib()
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    figures: dict[str, Any] = {
        "seconds": round(statistics.median(times), 4),
        "all_seconds": [round(value, 4) for value in times],
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }
    if trace:
        result = None
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        result = call()
        figures["traced_peak_mib"] = round((tracemalloc.get_traced_memory()[1] - baseline) / MiB, 2)
        tracemalloc.stop()
    return result, figures


def phase_render(renderer: str) -> dict[str, Any]:
    from drill.reports.html import render_report  # noqa: PLC0415
    from drill.reports.json_report import render_json  # noqa: PLC0415
    from drill.reports.junit import render_junit  # noqa: PLC0415

    function = {"html": render_report, "json": render_json, "junit": render_junit}[renderer]
    started = time.perf_counter()
    run = large_run(RunFactory(LARGE))
    built = time.perf_counter() - started
    function(run)  # warm: templates compiled, modules imported
    text, figures = _measured(lambda: function(run), repeats=3)
    counts = {status: count for status, count in run.counts().items() if count}
    return {
        "renderer": renderer,
        "findings": len(run.findings),
        "counts": counts,
        "build_run_seconds": round(built, 2),
        "bytes": len(text.encode()),
        **figures,
    }


def phase_index(report_dir: Path) -> dict[str, Any]:
    from drill.reports.directory import write_index  # noqa: PLC0415

    now = datetime(2040, 1, 1, tzinfo=UTC)
    lines = sum(1 for _ in (report_dir / history.HISTORY_FILE).open("rb"))
    path, figures = _measured(lambda: write_index(report_dir, now=now))
    return {"lines": lines, "index_bytes": path.stat().st_size, **figures}


class _Stopwatch:
    """Adds up the time spent in named functions of reports.directory (drill's code is not changed)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)


def phase_publish(report_dir: Path, runs: int) -> dict[str, Any]:
    from drill.reports import directory  # noqa: PLC0415
    from drill.reports.directory import publish  # noqa: PLC0415

    watch = _Stopwatch()
    for name, label in (
        ("render_json", "render_json"),
        ("render_report", "render_report"),
        ("write_atomic", "write files (fsync)"),
        ("_runs_with_pages", "index: list run pages"),
        ("index_view", "index: read history, build view"),
        ("render_index", "index: render"),
        ("write_index", "index: total"),
    ):
        watch.wrap(directory, name, label)
    watch.wrap(history, "append", "history append (fsync)")
    factory = RunFactory(MEDIUM)
    per_run: list[float] = []
    build = 0.0
    rss_marks: dict[str, float] = {}
    findings = 0
    for moment in quarter_moments(MEDIUM, runs):
        started = time.perf_counter()
        run = factory.run(moment)
        build += time.perf_counter() - started
        findings += len(run.findings)
        started = time.perf_counter()
        publish(run, report_dir, now=run.finished_at)
        per_run.append(time.perf_counter() - started)
        if len(per_run) in (100, runs // 2, runs):
            rss_marks[str(len(per_run))] = round(_rss_mib(), 1)
    tail = min(100, len(per_run))
    on_disk = sum(path.stat().st_size for path in report_dir.rglob("*") if path.is_file())
    first = next((report_dir / "runs").iterdir())
    return {
        "runs": runs,
        "findings_per_run": round(findings / runs, 1),
        "build_runs_seconds": round(build, 1),
        "publish_seconds": round(sum(per_run), 1),
        "publish_ms_mean": round(1000 * statistics.mean(per_run), 1),
        "publish_ms_first_100": round(1000 * statistics.mean(per_run[:tail]), 1),
        "publish_ms_last_100": round(1000 * statistics.mean(per_run[-tail:]), 1),
        "breakdown_ms_per_run": {
            label: round(1000 * total / runs, 2) for label, total in watch.seconds.items()
        },
        "report_dir_mb": round(on_disk / 1e6, 1),
        "run_json_kb": round((first / "run.json").stat().st_size / 1e3, 1),
        "report_html_kb": round((first / "report.html").stat().st_size / 1e3, 1),
        "history_line_kb": round((report_dir / history.HISTORY_FILE).stat().st_size / runs / 1e3, 1),
        "rss_mib_after_runs": rss_marks,
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


def phase_pack(report_dir: Path, days: int, out: Path, *, trace: bool) -> dict[str, Any]:
    from drill.reports.pack import build_pack  # noqa: PLC0415
    from drill.reports.period import Period  # noqa: PLC0415

    since = QUARTER[0]
    period = Period(since, since + timedelta(days=days - 1))
    now = datetime.combine(period.until + timedelta(days=1), datetime.min.time(), UTC)
    pack, figures = _measured(lambda: build_pack(report_dir, period, out, now=now), trace=trace)
    return {
        "days": days,
        "runs": len(pack.summary.runs),
        "files": pack.files,
        "incidents": len(pack.summary.incidents),
        "status": pack.summary.status.value,
        "pack_mb": round(out.stat().st_size / 1e6, 1),
        **figures,
    }


def phase_verify(pack: Path) -> dict[str, Any]:
    from drill.reports.pack import verify_pack  # noqa: PLC0415

    verification, figures = _measured(lambda: verify_pack(pack), trace=False)
    return {"checked": verification.checked, "ok": verification.ok, **figures}
