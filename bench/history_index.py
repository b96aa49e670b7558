"""Benchmark the run history at length: ``drill run`` with 100 and 10,000 runs of history, with and
without pruning, and the index page written from the history's summary.

    python bench/history_index.py                 # 100 and 10,000 runs; about 2 minutes on 2 cores
    python bench/history_index.py --quick         # 100 and 1,000 runs, one repeat
    python bench/history_index.py --runs 100,10000,50000 --repeats 5

For each length N, a report directory is generated in drill's on-disk format: N history lines,
each ``history_line.summary`` of its own synthetic run (the small estate of ``report_estate.py``:
2 databases, their restore drills, a few failures), one run an hour up to now, and
``runs/<run id>/run.json`` and ``report.html`` for every run. The run directories hold hard links
to one rendered run's two files (143 KB): 10,000 distinct copies would write 1.4 GB per directory
and measure the disk, while the history's cost depends on the number of directories and lines,
not their content. Then, each in a fresh process (its peak RSS its own, from ``wait4``):

1. ``drill run`` (the CLI, a filesystem target with an empty backup directory: the restore drill
   ends at once in ``error``, so the figure is drill's own start, the checks, the history lookups,
   the run's files, the history line, the summary and the index) with every run kept;
2. ``write_index`` alone from a current summary, and after the summary is deleted (the one full
   read of a rebuild: the first run after an upgrade, or after a corrupt summary);
3. ``drill run`` with ``keep_runs = N``: the steady state of a pruned directory (each run prunes
   the oldest run);
4. for the longest history only, the first run with ``keep_runs = 100``: the one-off prune of all
   but 100 runs.

Each child's peak RSS is at least the orchestrator's when it started (Linux carries the peak over
fork and exec), so the orchestrator only spawns and stays small.

Figures are printed as a Markdown table and written to ``bench/out/history_index.json``; the
directories live in a temp directory that is always removed. A measurement, never a pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "history_index.json"
sys.path.insert(0, str(ROOT))

from bench.report_estate import SMALL, Moment  # noqa: E402
from bench.report_runs import RunFactory  # noqa: E402

DRILL = [sys.executable, "-m", "drill"]


def generate(report_dir: Path, runs: int, now: datetime) -> None:
    """``runs`` runs, one an hour ending an hour before ``now``, in drill's on-disk format."""
    from drill import history  # noqa: PLC0415
    from drill.reports import history_line  # noqa: PLC0415
    from drill.reports.html import render_report  # noqa: PLC0415
    from drill.reports.json_report import render_json  # noqa: PLC0415

    factory = RunFactory(SMALL, 3)
    rng = random.Random(7)
    first = now - timedelta(hours=runs)
    template = report_dir / ".template"
    template.mkdir(parents=True)
    lines: list[str] = []
    for hour in range(runs):
        failing = SMALL.database_name(1) if rng.random() < 0.01 else None
        moment = Moment(
            first + timedelta(hours=hour), serial=hour, restore_fails=frozenset({failing} - {None})
        )
        run = factory.run(moment)
        if hour == 0:
            (template / "run.json").write_text(render_json(run), encoding="utf-8")
            (template / "report.html").write_text(render_report(run), encoding="utf-8")
        directory = report_dir / "runs" / run.run_id
        directory.mkdir(parents=True)
        for name in ("run.json", "report.html"):
            os.link(template / name, directory / name)
        # history.append writes exactly this (and fsyncs each line; 10,000 fsyncs would measure the disk).
        lines.append(json.dumps(history_line.summary(run), separators=(",", ":"), default=str) + "\n")
    (report_dir / history.HISTORY_FILE).write_text("".join(lines), encoding="utf-8")
    # A directory drill kept has a current summary: build and save it as a run would.
    with history.locked(report_dir):
        history.save_summary(report_dir, history.current_summary(report_dir))


def config(directory: Path, report_dir: Path, keep_runs: int | None) -> Path:
    (directory / "backups").mkdir(exist_ok=True)
    keep = f"keep_runs = {keep_runs}\n" if keep_runs else ""
    databases = "".join(
        f'\n[[databases]]\nname = "{SMALL.database_name(j)}"\nsite = "prod"\ntargets = ["nas"]\n'
        f'snapshot_pattern = "{SMALL.database_name(j)}/*.dump"\n'
        for j in range(SMALL.databases)
    )
    path = directory / f"drill-{report_dir.name}.toml"
    path.write_text(
        f'[report]\ndir = "{report_dir}"\n{keep}\n'
        '[[targets]]\nname = "nas"\ntype = "filesystem"\npath = "backups"\nsite = "office"\n' + databases,
        encoding="utf-8",
    )
    return path


def child(command: list[str]) -> dict[str, Any]:
    """Run one command in a fresh process: its wall time and its own peak RSS."""
    with tempfile.TemporaryFile() as captured:  # a file, not a pipe: a chatty child never blocks on it
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=captured, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        captured.seek(0)
        output = captured.read().decode(errors="replace")
    if process.returncode not in (0, 3):  # 3: the run found failures, as it must with no snapshot
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{output}")
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024, "output": output}


def drill_runs(config_path: Path, repeats: int) -> dict[str, Any]:
    results = [child([*DRILL, "run", "-c", str(config_path)]) for _ in range(repeats)]
    return {
        "seconds": round(statistics.median(result["seconds"] for result in results), 3),
        "all_seconds": [round(result["seconds"], 3) for result in results],
        "peak_rss_mib": round(max(result["peak_rss_mib"] for result in results), 1),
        "pruned": [line for line in results[-1]["output"].splitlines() if "pruned" in line],
    }


def phase_index(report_dir: Path, repeats: int) -> dict[str, Any]:
    """In a child: ``write_index`` from the current summary, then once after deleting it."""
    from drill import history  # noqa: PLC0415
    from drill.history_summary import SUMMARY_FILE  # noqa: PLC0415
    from drill.reports.directory import write_index  # noqa: PLC0415

    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        write_index(report_dir)
        times.append(time.perf_counter() - started)
    (report_dir / SUMMARY_FILE).unlink()
    started = time.perf_counter()
    with history.locked(report_dir):
        history.save_summary(report_dir, history.current_summary(report_dir))
    write_index(report_dir)
    rebuild = time.perf_counter() - started
    return {"index_seconds": round(statistics.median(times), 4), "rebuild_seconds": round(rebuild, 3)}


def measure(work: Path, runs: int, repeats: int, now: datetime, longest: bool) -> dict[str, Any]:
    from drill import history  # noqa: PLC0415

    row: dict[str, Any] = {"runs": runs}
    kept = work / f"kept-{runs}"
    started = time.perf_counter()
    # In a child: Linux carries a process's peak RSS over fork and exec, so an orchestrator grown by
    # generating would raise every later child's figure to its own.
    child(
        [
            sys.executable,
            __file__,
            "--phase-generate",
            str(kept),
            "--runs",
            str(runs),
            "--now",
            now.isoformat(),
        ]
    )
    row["generate_seconds"] = round(time.perf_counter() - started, 1)
    row["history_mb"] = round((kept / history.HISTORY_FILE).stat().st_size / 1e6, 2)
    print(
        f"  {runs:,} runs generated in {row['generate_seconds']} s ({row['history_mb']} MB of history)",
        flush=True,
    )
    row["run_keep_all"] = drill_runs(config(work, kept, None), repeats)
    print(f"  drill run, every run kept: {row['run_keep_all']['seconds']} s", flush=True)
    index = child([sys.executable, __file__, "--phase-index", str(kept), "--repeats", str(max(repeats, 3))])
    row["write_index"] = json.loads(index["output"].strip().splitlines()[-1]) | {
        "peak_rss_mib": round(index["peak_rss_mib"], 1)
    }
    print(f"  write_index: {row['write_index']}", flush=True)
    # The same directory, now pruned to N runs at each run: the steady state of keep_runs.
    row["run_keep_runs"] = drill_runs(config(work, kept, runs), repeats)
    print(f"  drill run, keep_runs = {runs:,}: {row['run_keep_runs']['seconds']} s", flush=True)
    if longest and runs > 100:
        row["first_prune_to_100"] = drill_runs(config(work, kept, 100), 1)
        print(f"  drill run, first prune to 100: {row['first_prune_to_100']['seconds']} s", flush=True)
    shutil.rmtree(kept)
    return row


def _spread(figures: dict[str, Any]) -> str:
    """The median, and the fastest repeat: on a shared machine the fastest is the least disturbed."""
    return f"{figures['seconds']:.2f} s ({min(figures['all_seconds']):.2f})"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| history | `drill run`, all kept, median (fastest) | peak RSS | `drill run`, keep_runs = N, median (fastest) | peak RSS | write_index | summary rebuild |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['runs']:,} runs ({row['history_mb']} MB) | {_spread(row['run_keep_all'])} "
            f"| {row['run_keep_all']['peak_rss_mib']:.0f} MiB | {_spread(row['run_keep_runs'])} "
            f"| {row['run_keep_runs']['peak_rss_mib']:.0f} MiB | {row['write_index']['index_seconds'] * 1000:.0f} ms "
            f"| {row['write_index']['rebuild_seconds']:.2f} s |"
        )
    first = next((row["first_prune_to_100"] for row in rows if "first_prune_to_100" in row), None)
    if first:
        lines.append(
            f"\nFirst run with keep_runs = 100 on the longest history: {first['seconds']:.2f} s, "
            f"peak RSS {first['peak_rss_mib']:.0f} MiB ({'; '.join(first['pruned'])})."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", default="100,10000", help="history lengths, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="drill runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 runs, one repeat")
    parser.add_argument("--phase-index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--phase-generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--now", type=datetime.fromisoformat, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.phase_generate:
        generate(arguments.phase_generate, int(arguments.runs), arguments.now)
        return
    if arguments.phase_index:
        print(json.dumps(phase_index(arguments.phase_index, arguments.repeats)))
        return
    lengths = [100, 1000] if arguments.quick else [int(part) for part in arguments.runs.split(",")]
    repeats = 1 if arguments.quick else arguments.repeats
    now = datetime.now(UTC)
    rows = []
    with tempfile.TemporaryDirectory(prefix="drill-bench-history-") as work:
        for runs in lengths:
            print(f"{runs:,} runs of history", flush=True)
            rows.append(measure(Path(work), runs, repeats, now, longest=runs == max(lengths)))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
