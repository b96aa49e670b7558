"""Benchmark the report layer at estate scale: one large run's pages, the index over a long history,
and the evidence pack of a quarter of hourly runs.

    python bench/reports.py              # the full run, about 14 minutes on 2 cores
    python bench/reports.py --quick      # a smoke run with small sizes, about 40 seconds
    python bench/reports.py --pack-runs 720 --index-lines 1000,10000 --no-trace-pack

Runs are synthetic but shaped like real ones: every finding carries the evidence type its check
records (copies_3_2_1's copies, the restore drill's timings, integrity's table rows, the trust
checks' twelve permission answers), messages worded as the checks word them, and a remediation on
every finding that is not a pass. Nothing here runs drill's checks or storage. The estate is in
``report_estate.py``, the findings in ``report_posture.py``, ``report_agents.py`` and
``report_drill.py``, the runs in ``report_runs.py`` and the measuring children in ``report_phases.py``.

1. One large run (200 S3 targets, 20 databases on 10 targets each, 5 agents): render_report,
   render_json and render_junit, each timed and then traced, in a fresh process each.
2. ``index.html`` over 1,000, 10,000 and 100,000 history lines: write_index in a fresh process
   each; the index keeps a bounded tail, so its memory should stay flat while its time grows.
3. A quarter: 90 days x 24 hourly runs of a medium estate published one by one (publish
   rewrites index.html every time), then build_pack of 1, 30 and 92 days from that directory and
   verify_pack of the 92-day pack, each in a fresh process.

It is a measurement, never a pass/fail on timing. Each measurement runs in a fresh child process
(``--phase``), so its peak RSS is its own; timings are taken with tracemalloc off, then the call
is repeated with tracemalloc on for the traced peak (allocations above what the process already
held). Results go to stdout (with a Markdown table at the end) and to ``bench/out/reports.json``;
the report directories and packs live in a temp directory that is always removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "reports.json"
sys.path.insert(0, str(ROOT))

from bench.report_estate import LARGE, MEDIUM, QUARTER  # noqa: E402
from bench.report_phases import phase_index, phase_pack, phase_publish, phase_render, phase_verify  # noqa: E402
from bench.report_runs import history_lines  # noqa: E402
from drill import history  # noqa: E402

QUARTER_DAYS = (QUARTER[1] - QUARTER[0]).days + 1


# ---------------------------------------------------------------------------------------------
# The orchestrator


def _child(*arguments: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _step(label: str) -> float:
    print(f"  {label} ...", flush=True)
    return time.perf_counter()


def orchestrate(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "large": {"estate": LARGE.describe()},
        "index": [],
        "quarter": {"estate": MEDIUM.describe()},
    }
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="drill-bench-reports-") as scratch:
        work = Path(scratch)
        print(f"1. one large run: {LARGE.describe()}", flush=True)
        results["large"]["renders"] = []
        for renderer in ("html", "json", "junit"):
            _step(f"render {renderer}")
            results["large"]["renders"].append(_child("--phase", "render", renderer))

        print("2. index.html over a long history", flush=True)
        longest = max(args.index_lines)
        source = work / "history-source.jsonl"
        started = _step(f"writing {longest:,} history lines")
        with source.open("w") as handle:
            handle.writelines(history_lines(longest))
        results["history_lines_written_seconds"] = round(time.perf_counter() - started, 1)
        for lines in sorted(args.index_lines):
            report_dir = work / f"index-{lines}"
            report_dir.mkdir()
            with source.open() as reader, (report_dir / history.HISTORY_FILE).open("w") as writer:
                for number, line in enumerate(reader):
                    if number >= lines:
                        break
                    writer.write(line)
            _step(f"write_index over {lines:,} lines")
            row = _child("--phase", "index", str(report_dir))
            row["history_mb"] = round((report_dir / history.HISTORY_FILE).stat().st_size / 1e6, 1)
            results["index"].append(row)
            shutil.rmtree(report_dir)

        print(f"3. a quarter of hourly runs: {MEDIUM.describe()}", flush=True)
        report_dir = work / "quarter"
        started = _step(f"publishing {args.pack_runs:,} runs")
        results["quarter"]["publish"] = _child("--phase", "publish", str(report_dir), str(args.pack_runs))
        print(f"    took {time.perf_counter() - started:.0f} s", flush=True)
        days_published = args.pack_runs / 24
        results["quarter"]["packs"] = []
        for days in (1, 30, QUARTER_DAYS):
            out = work / f"pack-{days}.zip"
            _step(f"build_pack over {_many(days, 'day')} ({min(days, days_published):g} of them with runs)")
            results["quarter"]["packs"].append(
                _child(
                    "--phase",
                    "pack",
                    str(report_dir),
                    str(days),
                    str(out),
                    *([] if args.no_trace_pack else ["--trace"]),
                )
            )
        _step("verify_pack of the 92-day pack")
        results["quarter"]["verify"] = _child("--phase", "verify", str(work / f"pack-{QUARTER_DAYS}.zip"))
    results["total_seconds"] = round(time.perf_counter() - begun, 1)
    _report(results)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwritten to {OUT.relative_to(ROOT)}")
    return 0


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} MiB"


def _report(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str, str, str]] = []
    for render in results["large"]["renders"]:
        name = {"html": "render_report", "json": "render_json", "junit": "render_junit"}[render["renderer"]]
        rows.append(
            (
                f"`{name}`, one run of {render['findings']:,} findings",
                f"{render['seconds']:.2f} s",
                f"{render['bytes'] / 1e6:.1f} MB",
                _mib(render["traced_peak_mib"]),
                _mib(render["peak_rss_mib"]),
                f"{render['rss_before_mib']:.0f} MiB before the call (the run, one warm-up render)",
            )
        )
    for row in results["index"]:
        rows.append(
            (
                f"`write_index`, {row['lines']:,} history lines ({row['history_mb']:,.1f} MB)",
                f"{row['seconds']:.2f} s",
                f"{row['index_bytes'] / 1e6:.2f} MB",
                _mib(row["traced_peak_mib"]),
                _mib(row["peak_rss_mib"]),
                f"{1e6 * row['seconds'] / row['lines']:.0f} µs per line",
            )
        )
    publish = results["quarter"]["publish"]
    breakdown = publish["breakdown_ms_per_run"]
    rows.append(
        (
            f"`publish` x {publish['runs']:,} hourly runs ({publish['findings_per_run']:.0f} findings each)",
            f"{publish['publish_seconds']:.0f} s; {publish['publish_ms_mean']:.0f} ms/run "
            f"(first 100 {publish['publish_ms_first_100']:.0f}, last 100 {publish['publish_ms_last_100']:.0f})",
            f"{publish['report_dir_mb']:,.0f} MB on disk",
            "-",
            _mib(publish["peak_rss_mib"]),
            f"mean per run: index.html {breakdown.get('index: total', 0):.0f} ms (reading the history "
            f"{breakdown.get('index: read history, build view', 0):.0f}), report.html "
            f"{breakdown.get('render_report', 0):.0f} ms, run.json {breakdown.get('render_json', 0):.0f} ms; "
            f"run.json {publish['run_json_kb']:.0f} kB, report.html {publish['report_html_kb']:.0f} kB, "
            f"history line {publish['history_line_kb']:.1f} kB",
        )
    )
    for pack in results["quarter"]["packs"]:
        rows.append(
            (
                f"`build_pack`, {_many(pack['days'], 'day')} ({pack['runs']:,} runs, {pack['files']:,} files)",
                f"{pack['seconds']:.1f} s",
                f"{pack['pack_mb']:,.1f} MB",
                _mib(pack.get("traced_peak_mib")),
                _mib(pack["peak_rss_mib"]),
                f"from the {publish['runs']:,}-run directory; {_many(pack['incidents'], 'incident')}, "
                f"verdict {pack['status']}",
            )
        )
    verify = results["quarter"]["verify"]
    rows.append(
        (
            f"`verify_pack`, {results['quarter']['packs'][-1]['days']}-day pack",
            f"{verify['seconds']:.1f} s",
            f"{verify['checked']:,} files",
            "-",
            _mib(verify["peak_rss_mib"]),
            "every digest matches" if verify["ok"] else "MISMATCH",
        )
    )
    print()
    print("| what | wall | size | traced peak | peak RSS | notes |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(
        "publish, mean per run (ms): " + ", ".join(f"{label} {value}" for label, value in breakdown.items())
    )
    print(f"publish, RSS after N runs (MiB): {publish['rss_mib_after_runs']}")
    packs = [pack for pack in results["quarter"]["packs"] if pack.get("traced_peak_mib")]
    if len(packs) >= 2:
        small, large = packs[-2], packs[-1]
        print(
            f"build_pack, {large['runs']:,} vs {small['runs']:,} runs: traced peak "
            f"x{large['traced_peak_mib'] / small['traced_peak_mib']:.2f}, peak RSS "
            f"x{large['peak_rss_mib'] / small['peak_rss_mib']:.2f}"
        )
    indexes = results["index"]
    if len(indexes) >= 2:
        print(
            f"write_index, {indexes[-1]['lines']:,} vs {indexes[0]['lines']:,} lines: time "
            f"x{indexes[-1]['seconds'] / indexes[0]['seconds']:.1f}, traced peak "
            f"x{indexes[-1]['traced_peak_mib'] / indexes[0]['traced_peak_mib']:.2f}"
        )
    print(
        f"whole benchmark: {results['total_seconds']:.0f} s "
        f"(of which writing {max(row['lines'] for row in indexes):,} history lines "
        f"{results['history_lines_written_seconds']:.0f} s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark drill's report layer.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument(
        "--pack-runs", type=int, default=90 * 24, help="hourly runs published (default 2,160)"
    )
    parser.add_argument(
        "--index-lines",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000, 10_000, 100_000],
        help="history lengths for write_index, a comma list",
    )
    parser.add_argument(
        "--no-trace-pack", action="store_true", help="time build_pack only, without its traced repeat"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 96 runs, 1,000 and 5,000 lines")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        name, *rest = args.phase
        if name == "render":
            figures = phase_render(rest[0])
        elif name == "index":
            figures = phase_index(Path(rest[0]))
        elif name == "publish":
            figures = phase_publish(Path(rest[0]), int(rest[1]))
        elif name == "pack":
            figures = phase_pack(Path(rest[0]), int(rest[1]), Path(rest[2]), trace=args.trace)
        elif name == "verify":
            figures = phase_verify(Path(rest[0]))
        else:
            parser.error(f"unknown phase {name}")
        print(json.dumps(figures, default=str))
        return 0
    if args.quick:
        args.pack_runs, args.index_lines = 96, [1_000, 5_000]
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
