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
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "posture.json"
SEEDER = HERE / "moto_seed.py"
KEY_ID_ENV = "DRILL_BENCH_ACCESS_KEY_ID"
SECRET_ENV = "DRILL_BENCH_SECRET_ACCESS_KEY"


# ---------------------------------------------------------------------------------------------
# The measuring child: one drill posture run in this process, instrumented from outside drill.


class CallCounter:
    """Counts S3 calls per operation (before retries) and HTTP requests (each attempt)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.operations: Counter[str] = Counter()
        self.requests = 0
        self.ranged_get_objects = 0
        self.keys_listed = 0
        self.clients = 0

    def before_call(self, model: Any, params: Mapping[str, Any], **kwargs: Any) -> None:
        ranged = model.name == "GetObject" and "Range" in (params.get("headers") or {})
        with self.lock:
            self.operations[model.name] += 1
            self.ranged_get_objects += int(ranged)

    def before_send(self, **kwargs: Any) -> None:
        with self.lock:
            self.requests += 1

    def after_list(self, parsed: Mapping[str, Any], **kwargs: Any) -> None:
        with self.lock:
            self.keys_listed += len(parsed.get("Contents") or ())

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call.s3", self.before_call)
        events.register("before-send.s3", self.before_send)
        events.register("after-call.s3.ListObjectsV2", self.after_list)
        with self.lock:
            self.clients += 1


def _instrument(counter: CallCounter) -> dict[str, float]:
    """Wrap drill's client factory and store opener (drill's code is not changed)."""
    import drill.storage  # noqa: PLC0415
    import drill.storage.aws  # noqa: PLC0415

    original_client = drill.storage.aws.client
    original_open = drill.storage.StoreOpener.open
    timing = {"open_stores_s": 0.0}

    def client(*args: Any, **kwargs: Any) -> Any:
        made = original_client(*args, **kwargs)
        counter.attach(made)
        return made

    def open_store(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_open(*args, **kwargs)
        finally:
            timing["open_stores_s"] += time.perf_counter() - started

    # s3_client looks ``client`` up in its module at call time; collect opens stores through StoreOpener.
    setattr(drill.storage.aws, "client", client)  # noqa: B010 - mypy would refuse a plain assignment
    setattr(drill.storage.StoreOpener, "open", open_store)  # noqa: B010
    return timing


def _config_text(endpoint: str, targets: int, report_dir: Path) -> str:
    lines = [
        "[report]",
        f'dir = "{report_dir}"',
        "",
        "[policy]",
        "copies = 1",
        "media = 1",
        "offsite = 1",
        "immutable = 0",
        'max_age = "26h"',
        'min_retention = "30d"',
    ]
    for index in range(targets):
        lines += [
            "",
            "[[targets]]",
            f'name = "t-{index:03d}"',
            'type = "s3"',
            f'bucket = "drill-bench-{index:03d}"',
            'prefix = "postgres/"',
            'region = "us-east-1"',
            f'endpoint_url = "{endpoint}"',
            f'site = "bench-site-{index:03d}"',
            "[targets.credentials]",
            f'access_key_id_env = "{KEY_ID_ENV}"',
            f'secret_access_key_env = "{SECRET_ENV}"',
        ]
    for index in range(targets):
        lines += [
            "",
            "[[databases]]",
            f'name = "db-{index:03d}"',
            'site = "production"',
            f'targets = ["t-{index:03d}"]',
            f'snapshot_pattern = "db-{index:03d}/*.dump"',
            # Even buckets carry Object Lock (see moto_seed.py): only they are required to be immutable.
            f"immutable = {1 if index % 2 == 0 else 0}",
        ]
    return "\n".join(lines) + "\n"


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def measure(
    endpoint: str, targets: int, snapshots: int, concurrency: int, *, trace: bool, scratch: Path
) -> dict[str, Any]:
    """One posture run, in this process, with its config and reports in ``scratch``; the figures."""
    import drill  # noqa: PLC0415
    from drill.config import load_config  # noqa: PLC0415
    from drill.engine import execute  # noqa: PLC0415
    from drill.model import Phase  # noqa: PLC0415

    counter = CallCounter()
    timing = _instrument(counter)
    environ = {**os.environ, KEY_ID_ENV: "bench-key-id", SECRET_ENV: "bench-secret"}
    path = scratch / "drill.toml"
    path.write_text(_config_text(endpoint, targets, scratch / "reports"))
    loaded = load_config(path, environ)
    import boto3  # noqa: PLC0415, F401 - imported before the baseline, as drill imports it lazily
    import botocore.session  # noqa: PLC0415, F401

    rss_before = _rss_kib("VmRSS")
    if trace:
        import tracemalloc  # noqa: PLC0415

        tracemalloc.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run = execute(
        loaded, command="check", phases=frozenset({Phase.POSTURE}), concurrency=concurrency, environ=environ
    )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    traced_peak = None
    if trace:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    statuses = Counter(f"{finding.check}:{finding.status.value}" for finding in run.findings)
    calls = sum(counter.operations.values())
    return {
        "drill_source": str(Path(drill.__file__).parent),
        "targets": targets,
        "snapshots_per_target": snapshots,
        "concurrency": concurrency,
        "tracemalloc": trace,
        "wall_s": round(wall, 3),
        "targets_per_s": round(targets / wall, 2),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_target": round(1000 * cpu / targets, 1),
        "open_stores_s": round(timing["open_stores_s"], 3),
        "clients_created": counter.clients,
        "api_calls": calls,
        "api_calls_per_target": round(calls / targets, 2),
        "calls_per_target_by_operation": {
            name: round(count / targets, 2) for name, count in sorted(counter.operations.items())
        },
        "http_requests": counter.requests,
        "get_object_calls": counter.operations.get("GetObject", 0),
        "ranged_get_object_calls": counter.ranged_get_objects,
        "keys_listed": counter.keys_listed,
        "rss_before_run_mib": round(rss_before / 1024, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "tracemalloc_peak_mib": None if traced_peak is None else round(traced_peak / 2**20, 2),
        "findings": dict(sorted(statuses.items())),
    }


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
