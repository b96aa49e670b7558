"""Restore drill against plain pg_restore, on a realistic database of a gigabyte or more.

For each scale (1 = about 1.2 GB on disk), in one run:

1. a default-configured local cluster (plain ``initdb``, nothing tuned) gets a database of
   customers, orders and events: text, jsonb, timestamps, five secondary indexes; the values
   come from md5() and random(), so the custom-format dump compresses about 3.5x, not the
   hundredfold of pgbench's tables;
2. ``pg_dump -Fc`` writes it to a local file, which is uploaded to a moto S3 server;
3. (a) ``pg_restore --jobs 2 --no-owner --no-privileges`` of the local file into a fresh database
   of that default cluster, timed;
4. (c) the same ``pg_restore --jobs 2`` as the cluster's superuser into a cluster with drill's
   scratch settings (drill.restore.scratch.ScratchCluster, whose tuning skips durability), started
   before the clock: the fairer baseline, the same server doing the same work without drill;
5. (b) ``drill run`` on a config whose only target is the moto bucket, in a child process that
   reports its own peak RSS (``ru_maxrss`` of itself, not of pg_restore or the server). The JSON
   gives drill's own timings: download, server start, restore, verify, total. The restore runs as
   drill runs every snapshot: the restore role, the box, the disk bounds, verification in the role.

The ratios printed are drill's restore phase / (a) (target 1.1 or less), drill's whole drill,
download and verification included / (a) (target 1.5 or less), and the same two against (c)
(target for the whole drill: 1.05 or less). Memory should stay below 200 MB and be flat when the
database doubles (``--scales 1,2``). Nothing is asserted: a benchmark reports figures, it does
not pass or fail.

    python bench/restore.py                  # scales 1 and 2, one round each: about 12 minutes
    python bench/restore.py --scales 0.1     # smoke run, about a minute
    python bench/restore.py --scales 1 --rounds 3

Run as root (the clusters then run as the ``postgres`` user, as drill's scratch server does) or
as an ordinary user. Results go to ``bench/out/restore.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Run as a script, bench/ is the first entry of sys.path.
from restore_estate import (
    BUCKET,
    DATABASE,
    Cluster,
    default_cluster,
    generate,
    moto_server,
    postgres_bin_dir,
    upload,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PREFIX = "pg/bench/"
KEY_ENV = {"BENCH_AWS_KEY": "testing", "BENCH_AWS_SECRET": "testing"}

CONFIG = """
[report]
dir = "{report_dir}"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0
max_age = "1d"

[restore]
engine = "embedded"
work_dir = "{work_dir}"
jobs = 2

[[targets]]
name = "bench-s3"
type = "s3"
bucket = "{bucket}"
region = "us-east-1"
endpoint_url = "{endpoint}"
site = "aws:123456789012:us-east-1"
credentials = {{ access_key_id_env = "BENCH_AWS_KEY", secret_access_key_env = "BENCH_AWS_SECRET" }}

[[databases]]
name = "{database}"
site = "prod"
targets = ["bench-s3"]
snapshot_pattern = "{prefix}*.dump"
recovery_point_columns = ["events.at"]

[[databases.checks]]
name = "orders exist"
sql = "SELECT count(*) FROM orders"
expect = "> 0"
"""

# The child reports its own peak RSS, whatever way drill's CLI exits.
CHILD = """
import json, os, resource, sys
from drill.cli import main
sys.argv = ["drill", *sys.argv[1:]]
try:
    main()
finally:
    with open(os.environ["BENCH_RSS_FILE"], "w") as out:
        json.dump({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, out)
"""


def plain_restore(cluster: Cluster, dump: Path, round_number: int) -> float:
    """(a): pg_restore --jobs 2 of a local file into a fresh database of the default cluster."""
    target = f"baseline_{round_number}"
    cluster.run("createdb", target)
    try:
        return cluster.run(
            "pg_restore",
            "--jobs=2",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={target}",
            str(dump),
        )
    finally:
        cluster.run("dropdb", target)


def tuned_restore(bin_dir: Path, dump: Path, work_dir: Path) -> float:
    """(c): pg_restore --jobs 2 into a cluster with drill's scratch settings, as its superuser."""
    from drill.restore.binaries import find_binaries  # noqa: PLC0415
    from drill.restore.scratch import ScratchCluster  # noqa: PLC0415

    with ScratchCluster(find_binaries(bin_dir), work_dir=work_dir) as server:
        server.create_database("baseline")
        started = time.perf_counter()
        subprocess.run(
            (
                str(bin_dir / "pg_restore"),
                "--jobs=2",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                "--dbname=baseline",
                str(dump),
            ),
            env={**os.environ, **server.env()},
            check=True,
        )
        return time.perf_counter() - started


def drill_run(config: Path, workspace: Path) -> dict[str, Any]:
    """(b): the whole ``drill run`` in a child that reports its own peak RSS."""
    rss_file = workspace / "rss.json"
    json_path = workspace / "run.json"
    environ = {**os.environ, **KEY_ENV, "BENCH_RSS_FILE": str(rss_file)}
    started = time.perf_counter()
    completed = subprocess.run(
        (sys.executable, "-c", CHILD, "run", "-c", str(config), "--json", str(json_path)),
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode not in (0, 3):
        raise RuntimeError(
            f"drill run failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    run = json.loads(json_path.read_text())
    [restore] = [finding for finding in run["findings"] if finding["check"] == "restore"]
    if restore["status"] != "pass":
        raise RuntimeError(f"the drill did not pass: {restore['message']}")
    evidence = restore["evidence"]
    return {
        "wall_s": round(wall, 2),
        "download_s": evidence["download_seconds"],
        "server_wait_s": evidence["server_wait_seconds"],
        "restore_s": evidence["restore_seconds"],
        "verify_s": evidence["verify_seconds"],
        "total_s": evidence["total_seconds"],
        "peak_rss_mib": round(json.loads(rss_file.read_text())["maxrss_kib"] / 1024, 1),
    }


@dataclass(frozen=True)
class Result:
    scale: float
    database_mib: float
    dump_mib: float
    generate_s: float
    dump_s: float
    upload_s: float
    plain_restore_s: float
    tuned_restore_s: float
    drill: dict[str, float]
    restore_ratio: float
    whole_ratio: float
    tuned_restore_ratio: float
    tuned_whole_ratio: float


def measure(scale: float, rounds: int, bin_dir: Path, parent: Path) -> Result:
    workspace = Path(tempfile.mkdtemp(prefix="bench-", dir=parent))
    workspace.chmod(0o755)  # the postgres user runs drill's scratch server under work_dir
    try:
        with default_cluster(bin_dir, parent) as cluster, moto_server() as endpoint:
            print(f"scale {scale}: generating ...", flush=True)
            generated = generate(cluster, scale)
            print(
                f"  {generated['database_bytes'] / 2**20:,.0f} MiB in {generated['generate_s']} s; dumping ...",
                flush=True,
            )
            dump = workspace / "bench.dump"
            dump_s = cluster.run("pg_dump", "-Fc", "-f", str(dump), DATABASE)
            key = f"{PREFIX}bench-{time.strftime('%Y%m%dT%H%M%S')}.dump"
            upload_s = upload(endpoint, dump, key)
            print(
                f"  dump {dump.stat().st_size / 2**20:,.0f} MiB in {dump_s:.1f} s; uploaded in {upload_s:.1f} s",
                flush=True,
            )
            work_dir = workspace / "work"
            work_dir.mkdir()
            work_dir.chmod(0o755)
            config = workspace / "drill.toml"
            config.write_text(
                CONFIG.format(
                    report_dir=workspace / "reports",
                    work_dir=work_dir,
                    bucket=BUCKET,
                    endpoint=endpoint,
                    database=DATABASE,
                    prefix=PREFIX,
                )
            )
            plain: list[float] = []
            tuned: list[float] = []
            drills: list[dict[str, Any]] = []
            for number in range(rounds):
                # Alternate, so that no side always runs with a warmer page cache.
                plain.append(plain_restore(cluster, dump, number))
                print(f"  round {number + 1}: pg_restore --jobs 2: {plain[-1]:.1f} s", flush=True)
                tuned.append(tuned_restore(bin_dir, dump, work_dir))
                print(
                    f"  round {number + 1}: pg_restore --jobs 2, drill's settings: {tuned[-1]:.1f} s",
                    flush=True,
                )
                drills.append(drill_run(config, workspace))
                print(f"  round {number + 1}: drill run: {drills[-1]}", flush=True)
        a = statistics.median(plain)
        c = statistics.median(tuned)
        drill = {key: statistics.median(d[key] for d in drills) for key in drills[0]}
        drill["peak_rss_mib"] = max(d["peak_rss_mib"] for d in drills)
        return Result(
            scale=scale,
            database_mib=round(generated["database_bytes"] / 2**20, 1),
            dump_mib=round(dump.stat().st_size / 2**20, 1),
            generate_s=generated["generate_s"],
            dump_s=round(dump_s, 1),
            upload_s=round(upload_s, 1),
            plain_restore_s=round(a, 2),
            tuned_restore_s=round(c, 2),
            drill=drill,
            restore_ratio=round(drill["restore_s"] / a, 3),
            whole_ratio=round(drill["total_s"] / a, 3),
            tuned_restore_ratio=round(drill["restore_s"] / c, 3),
            tuned_whole_ratio=round(drill["total_s"] / c, 3),
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def _report(results: Sequence[Result]) -> None:
    print()
    header = (
        "scale  db MiB  dump MiB  (a) s  (c) s  download  srv wait  restore  verify  total  "
        "restore/(a)  total/(a)  restore/(c)  total/(c)  drill RSS MiB"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        d = result.drill
        print(
            f"{result.scale:5}  {result.database_mib:6,.0f}  {result.dump_mib:8,.0f}  {result.plain_restore_s:5.1f}  "
            f"{result.tuned_restore_s:5.1f}  "
            f"{d['download_s']:8.1f}  {d['server_wait_s']:8.1f}  {d['restore_s']:7.1f}  {d['verify_s']:6.1f}  "
            f"{d['total_s']:5.1f}  {result.restore_ratio:11.2f}  {result.whole_ratio:9.2f}  "
            f"{result.tuned_restore_ratio:11.2f}  {result.tuned_whole_ratio:9.2f}  {d['peak_rss_mib']:13.1f}"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"\npeak RSS at scale {last.scale} / scale {first.scale}: "
            f"{last.drill['peak_rss_mib'] / first.drill['peak_rss_mib']:.2f} "
            f"(database {last.database_mib / first.database_mib:.2f}x)"
        )
    print("targets: restore/(a) <= 1.1, total/(a) <= 1.5, total/(c) <= 1.05, drill RSS < 200 MiB and flat")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scales", default="1,2", help="comma-separated; 1 is about 1.2 GB on disk")
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternating (a)/(b) pairs per scale; medians reported"
    )
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()), help="where clusters and dumps go"
    )
    args = parser.parse_args(argv)
    bin_dir = postgres_bin_dir()
    results = [measure(float(scale), args.rounds, bin_dir, args.dir) for scale in args.scales.split(",")]
    _report(results)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "restore.json").write_text(json.dumps([asdict(result) for result in results], indent=2) + "\n")
    print(f"written to {OUT / 'restore.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
