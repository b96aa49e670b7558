"""Benchmark drill's posture checks on many S3 targets with many snapshots each, on moto.

    python bench/posture.py              # 200 targets x 1,000 snapshots at concurrency 8 and 16,
                                         # then the tenfold-snapshots memory comparison
    python bench/posture.py --quick      # a smoke run with small sizes
    python bench/posture.py --targets 50 --snapshots 2000 --concurrency 4,8,32 --tenfold-targets 10

Reports targets per second, S3 calls per target by operation, the GetObject count (a posture
check never downloads a snapshot body, so it must be 0), and peak memory. It is a measurement,
never a pass/fail on timing. Results go to stdout and to ``bench/out/posture.json``.

Each measurement runs in a fresh child process (``--measure``), so its peak RSS is its own. The
emulator, seeded by ``bench/moto_seed.py`` in another process, is part of what is measured: moto
serialises a 1,000-key listing page far slower than S3 does, so targets per second is a lower
bound, and the child's CPU seconds per target is the figure that belongs to drill alone.

Flat memory: the same number of targets is measured with N and 10 x N snapshots each, with
tracemalloc on (it slows allocation, so those runs are not used for throughput).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

# Beside this file: run as a script, this file's folder is the first entry of sys.path.
from posture_measure import measure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "posture.json"
SEEDER = HERE / "moto_seed.py"

# ---------------------------------------------------------------------------------------------
# The orchestrator: seed moto in its own process, run each measurement in a fresh child.


class Emulator:
    """A running bench/moto_seed.py process and what it said about itself."""

    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.process = process
        self.info = info

    @property
    def endpoint(self) -> str:
        return str(self.info["endpoint"])

    def rss_mib(self) -> float | None:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None


@contextmanager
def emulator(targets: int, snapshots: int) -> Iterator[Emulator]:
    """Start and seed moto; it is killed on every way out, Ctrl-C included."""
    print(f"seeding moto: {targets} targets x {snapshots:,} snapshots ...", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(SEEDER), "--targets", str(targets), "--snapshots", str(snapshots)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        info: dict[str, Any] = {}
        for line in process.stdout:
            if line.strip() == "ready":
                break
            if line.startswith("{"):
                info = json.loads(line)
        else:
            raise RuntimeError(f"moto exited with {process.wait()} before it was ready.")
        print(
            f"  seeded {info['objects']:,} objects in {info['seed_s']} s; moto RSS {info['rss_mib']} MiB",
            flush=True,
        )
        yield Emulator(process, info)
    finally:
        _stop(process)


def run_child(
    endpoint: str, targets: int, snapshots: int, concurrency: int, *, trace: bool, scratch_root: Path
) -> dict[str, Any]:
    """Measure in a fresh process; its scratch directory belongs to this one, so Ctrl-C cleans it up."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--measure",
        "--endpoint",
        endpoint,
        "--targets",
        str(targets),
        "--snapshots",
        str(snapshots),
        "--concurrency",
        str(concurrency),
        "--scratch",
        tempfile.mkdtemp(prefix="run-", dir=scratch_root),
    ]
    if trace:
        command.append("--tracemalloc")
    label = f"{targets} targets x {snapshots:,} snapshots, concurrency {concurrency}"
    print(f"  measuring {label}{' (tracemalloc)' if trace else ''} ...", flush=True)
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = child.communicate()
    finally:
        _stop(child)
    if child.returncode != 0:
        raise RuntimeError(f"the measurement of {label} failed:\n{stderr}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    unverified = sum(count for name, count in result["findings"].items() if name.endswith(":error"))
    if unverified:
        # A run that could not read storage measures failures, not posture: refuse its figures.
        raise RuntimeError(f"the measurement of {label} ended with {unverified} error findings.")
    return result


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _concurrencies(values: Sequence[str]) -> list[int]:
    return [int(part) for value in values for part in value.split(",") if part.strip()]


def _table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'targets':>7} {'snaps':>6} {'conc':>4} {'trace':>5} {'wall s':>7} {'tgt/s':>6} "
        f"{'cpu ms/tgt':>10} {'calls/tgt':>9} {'GetObject':>9} {'peak RSS MiB':>12} {'traced MiB':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        traced = row["tracemalloc_peak_mib"]
        lines.append(
            f"{row['targets']:>7} {row['snapshots_per_target']:>6} {row['concurrency']:>4} "
            f"{'yes' if row['tracemalloc'] else 'no':>5} {row['wall_s']:>7.1f} {row['targets_per_s']:>6.1f} "
            f"{row['cpu_ms_per_target']:>10.1f} {row['api_calls_per_target']:>9.2f} "
            f"{row['get_object_calls']:>9} {row['peak_rss_mib']:>12.1f} "
            f"{'-' if traced is None else f'{traced:.2f}':>10}"
        )
    return "\n".join(lines)


def orchestrate(args: argparse.Namespace) -> int:
    concurrencies = _concurrencies(args.concurrency) or [8, 16]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "throughput": [],
        "tenfold": None,
        "emulators": [],
    }
    with tempfile.TemporaryDirectory(prefix="drill-bench-") as scratch:
        _measure_all(args, results, concurrencies, Path(scratch))
    _report(args, results)
    return 0


def _measure_all(
    args: argparse.Namespace, results: dict[str, Any], concurrencies: Sequence[int], scratch: Path
) -> None:
    tenfold_targets = min(args.tenfold_targets, args.targets)
    tenfold_snapshots = 10 * args.snapshots
    with emulator(args.targets, args.snapshots) as moto:
        results["emulators"].append(moto.info)
        for concurrency in concurrencies:
            row = run_child(
                moto.endpoint,
                args.targets,
                args.snapshots,
                concurrency,
                trace=args.tracemalloc,
                scratch_root=scratch,
            )
            results["throughput"].append(row)
        if not args.no_tenfold:
            # The 1x side reuses this estate: the first tenfold_targets buckets, same layout.
            one = run_child(
                moto.endpoint,
                tenfold_targets,
                args.snapshots,
                args.tenfold_concurrency,
                trace=True,
                scratch_root=scratch,
            )
        moto.info["rss_after_runs_mib"] = moto.rss_mib()
    if not args.no_tenfold:
        with emulator(tenfold_targets, tenfold_snapshots) as moto:
            results["emulators"].append(moto.info)
            ten = run_child(
                moto.endpoint,
                tenfold_targets,
                tenfold_snapshots,
                args.tenfold_concurrency,
                trace=True,
                scratch_root=scratch,
            )
            moto.info["rss_after_runs_mib"] = moto.rss_mib()
        results["tenfold"] = {
            "targets": tenfold_targets,
            "runs": [one, ten],
            "peak_rss_ratio": round(ten["peak_rss_mib"] / one["peak_rss_mib"], 3),
            "peak_rss_delta_mib": round(ten["peak_rss_mib"] - one["peak_rss_mib"], 1),
            "tracemalloc_peak_delta_mib": round(ten["tracemalloc_peak_mib"] - one["tracemalloc_peak_mib"], 2),
            "tracemalloc_peak_ratio": round(ten["tracemalloc_peak_mib"] / one["tracemalloc_peak_mib"], 3),
        }


def _report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    print()
    print("throughput (each row a fresh process; moto on the same machine is part of the cost)")
    print(_table(results["throughput"]))
    for row in results["throughput"]:
        by_operation = ", ".join(f"{op} {n}" for op, n in row["calls_per_target_by_operation"].items())
        print(
            f"  concurrency {row['concurrency']}: calls per target: {by_operation}; "
            f"HTTP requests {row['http_requests']}; keys listed {row['keys_listed']:,}; "
            f"opening {row['clients_created']} clients took {row['open_stores_s']} s"
        )
    if results["tenfold"]:
        tenfold = results["tenfold"]
        print()
        print(
            f"flat memory: {tenfold['targets']} targets, "
            f"{args.snapshots:,} vs {10 * args.snapshots:,} snapshots each"
        )
        print(_table(tenfold["runs"]))
        print(
            f"  10x / 1x: peak RSS {tenfold['peak_rss_ratio']} ({tenfold['peak_rss_delta_mib']:+} MiB), "
            f"tracemalloc peak {tenfold['tracemalloc_peak_ratio']} ({tenfold['tracemalloc_peak_delta_mib']:+} MiB)"
        )
    for info in results["emulators"]:
        print(
            f"moto: {info['objects']:,} objects seeded in {info['seed_s']} s "
            f"(import {info['import_s']} s); RSS {info['rss_mib']} MiB seeded, "
            f"{info.get('rss_after_runs_mib')} MiB after the runs"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark drill's S3 posture checks on moto.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--targets", type=int, default=200, help="S3 targets, one bucket and database each")
    parser.add_argument("--snapshots", type=int, default=1000, help="snapshots per target")
    parser.add_argument(
        "--concurrency",
        action="append",
        default=[],
        help="drill's --concurrency; repeatable or a comma list (default 8,16)",
    )
    parser.add_argument(
        "--tenfold-targets", type=int, default=20, help="targets in the flat-memory comparison"
    )
    parser.add_argument("--tenfold-concurrency", type=int, default=8)
    parser.add_argument("--no-tenfold", action="store_true", help="skip the flat-memory comparison")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace allocations in throughput runs"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 targets x 100 snapshots")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the JSON results (default {OUT})")
    # The child's side: one measurement against a running emulator, printed as JSON.
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        concurrency = _concurrencies(args.concurrency)[0]
        with ExitStack() as stack:
            scratch = args.scratch or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="drill-bench-"))
            )
            figures = measure(
                args.endpoint,
                args.targets,
                args.snapshots,
                concurrency,
                trace=args.tracemalloc,
                scratch=scratch,
            )
        print(json.dumps(figures))
        return 0
    if args.quick:
        args.targets, args.snapshots, args.tenfold_targets = 10, 100, 4
        args.concurrency = args.concurrency or ["4"]
    try:
        return orchestrate(args)
    except KeyboardInterrupt:
        print("interrupted; moto stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
