"""The physical restore drill against the bare floor, on the same pgBackRest backup, in one run.

For each database size (``--sizes``, MB on disk; default 50 and 500):

1. a source cluster as initdb makes it (data checksums on), archiving with ``pgbackrest
   archive-push`` into a posix repository, gets restore_estate's customers, orders and events
   (md5/random values, five secondary indexes) at the scale that gives the size; then
   ``stanza-create`` and a full backup (``compress-type=lz4``, ``process-max=2``: with gzip the
   restore would be CPU-bound on decompression and hide drill's own cost);
2. after the backup, a tenth of the orders are updated and the WAL is switched, so that recovery
   has segments to fetch and replay; the source is stopped;
3. (floor) by hand, as an operator would: ``pgbackrest restore --type=default --archive-mode=off``
   into an empty directory as postgres, ``pg_ctl start`` on the backup's own configuration (port and
   socket moved), and polling until ``pg_is_in_recovery()`` is false: restore, start and recovery
   to the end of the archive, timed as one;
4. (drill) ``drill_stanza`` in a child process that reports its own peak RSS: drill's restore,
   replay and verification (amcheck, the row counts, pg_checksums) timed by drill.

Printed: drill's restore + replay / the floor (target 1.1 or less), the whole drill / the floor,
and the child's peak RSS per size (target: flat in the backup's size). Nothing is asserted.

    python bench/pgbackrest_restore.py                 # 50 and 500 MB: about 6 minutes on 2 cores
    python bench/pgbackrest_restore.py --sizes 20      # smoke run, under a minute
    python bench/pgbackrest_restore.py --rounds 3

Run as root (clusters and pgBackRest then run as the ``postgres`` user, as drill's do). Results go
to ``bench/out/pgbackrest_restore.json`` (git-ignored).
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Run as a script, bench/ is the first entry of sys.path.
from restore_estate import DATABASE, Cluster, generate, postgres_bin_dir, server_account

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
STANZA = "bench"
MB_PER_SCALE = 1200  # restore_estate's scale 1 is about 1.2 GB on disk
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}

# The child drills and reports its own peak RSS (not pgBackRest's nor the server's).
CHILD = """
import json, os, resource, sys
from drill.config import Database, IntegrityQuery, RestoreSettings, Target, TargetType
from drill.restore.physical.drill import drill_stanza
from drill.storage.pgbackrest.stanza import read_stanza

config, work_dir, database = sys.argv[1:4]
target = Target(name="bench", type=TargetType.PGBACKREST, stanza="bench", config=config, site="dc1")
[copy] = read_stanza(target, os.environ, timeout=600)
check = IntegrityQuery(name="orders exist", sql="SELECT count(*) FROM public.orders", expect="> 0")
outcome = drill_stanza(Database(name=database, site="dc1", targets=("bench",), checks=(check,)), "bench",
                       copy.repo, RestoreSettings(work_dir=work_dir, jobs=2), os.environ)
timings = outcome.timings
print(json.dumps({
    "failure": outcome.failure, "missing": outcome.replay.missing if outcome.replay else None,
    "restore_s": timings.restore_seconds, "replay_s": timings.replay_seconds,
    "verify_s": timings.verify_seconds, "total_s": timings.total_seconds,
    "checksums": outcome.checksums.status if outcome.checksums else None,
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""


def as_postgres(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    account = server_account()
    result = subprocess.run(
        argv, env=_ENV, capture_output=True, text=True, check=False,
        user=account.pw_uid if account else None, group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {result.returncode}: {result.stderr[-2000:]}")
    return result


def owned_dir(path: Path) -> Path:
    path.mkdir(mode=0o700)
    account = server_account()
    if account:
        os.chown(path, account.pw_uid, account.pw_gid)
    return path


@contextmanager
def source_stanza(bin_dir: Path, parent: Path, scale: float) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A backed-up, archived, stopped source; its pgBackRest config and what was generated."""
    root = Path(tempfile.mkdtemp(prefix="s-", dir=parent))
    root.chmod(0o755)
    for part in ("repo", "log", "socket", "data"):
        owned_dir(root / part)
    config = root / "pgbackrest.conf"
    config.write_text(
        f"[global]\nrepo1-path={root / 'repo'}\nlog-path={root / 'log'}\nlock-path={root / 'log'}\n"
        "log-level-file=off\nstart-fast=y\nprocess-max=2\ncompress-type=lz4\n"
        f"[{STANZA}]\npg1-path={root / 'data'}\npg1-socket-path={root / 'socket'}\n"
    )
    shutil.chown(config, "postgres", "postgres") if server_account() else None
    data = str(root / "data")
    as_postgres(str(bin_dir / "initdb"), "-A", "trust", "-U", "postgres", "-k", "-D", data)
    with (root / "data" / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = ''\nunix_socket_directories = '{root / 'socket'}'\narchive_mode = on\n"
            f"archive_command = 'pgbackrest --config={config} --stanza={STANZA} archive-push %p'\n"
            "max_wal_size = 4GB\n"
        )
    pg_ctl = str(bin_dir / "pg_ctl")
    as_postgres(pg_ctl, "-D", data, "-l", str(root / "log" / "server.log"), "-w", "start")
    try:
        cluster = Cluster(bin_dir, root / "socket")
        generated = generate(cluster, scale)
        pgbackrest = ("pgbackrest", f"--config={config}", f"--stanza={STANZA}")
        as_postgres(*pgbackrest, "stanza-create")
        started = time.perf_counter()
        as_postgres(*pgbackrest, "--type=full", "backup")
        generated["backup_s"] = round(time.perf_counter() - started, 1)
        psql = (
            str(bin_dir / "psql"),
            "-X",
            "-h",
            str(root / "socket"),
            "-U",
            "postgres",
            "-d",
            DATABASE,
            "-c",
        )
        as_postgres(*psql, "UPDATE orders SET status = 'audited' WHERE id % 10 = 0")
        as_postgres(*psql, "SELECT pg_switch_wal()")
        as_postgres(*psql, "CHECKPOINT")
        as_postgres(pg_ctl, "-D", data, "-m", "fast", "-w", "stop")  # archives what is left
        info = json.loads(as_postgres(*pgbackrest, "info", "--output=json").stdout)[0]
        generated["repo_mib"] = round(info["backup"][-1]["info"]["repository"]["size"] / 2**20, 1)
        generated["archive"] = [info["archive"][-1]["min"], info["archive"][-1]["max"]]
        yield config, generated
    finally:
        as_postgres(pg_ctl, "-D", data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def floor(bin_dir: Path, config: Path, parent: Path, tuned: bool) -> tuple[float, float]:
    """pgbackrest restore, then start and recovery to the end of the archive, by hand: (restore
    seconds, total seconds). ``tuned``: the server gets drill's durability settings (fsync,
    full_page_writes and synchronous_commit off), the same work without drill."""
    import psycopg  # noqa: PLC0415

    root = Path(tempfile.mkdtemp(prefix="f-", dir=parent))
    root.chmod(0o755)
    data = owned_dir(root / "data")
    socket_dir = owned_dir(root / "socket")
    started = time.perf_counter()
    try:
        as_postgres(
            "pgbackrest", f"--config={config}", f"--stanza={STANZA}", f"--pg1-path={data}",
            "--type=default", "--archive-mode=off", "restore",
        )  # fmt: skip
        restored = time.perf_counter() - started
        options = f"-c port=5433 -c unix_socket_directories='{socket_dir}'"
        if tuned:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        as_postgres(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(socket_dir / "server.log"),
            "-w",
            "start",
        )
        conninfo = f"host={socket_dir} port=5433 user=postgres dbname=postgres"
        while True:
            try:
                with psycopg.connect(conninfo) as connection:
                    row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
                if row == (False,):
                    break
            except psycopg.OperationalError:
                pass
            time.sleep(0.01)
        return restored, time.perf_counter() - started
    finally:
        as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def _warm(repo: Path) -> None:
    """Read the repository once, so that neither the floor nor the drill pays for a cold cache."""
    for path in repo.rglob("*"):
        if path.is_file():
            with path.open("rb") as stream:
                while stream.read(1 << 20):
                    pass


def drill(config: Path, parent: Path) -> dict[str, Any]:
    work_dir = Path(tempfile.mkdtemp(prefix="d-", dir=parent))
    work_dir.chmod(0o755)
    try:
        completed = subprocess.run(
            (sys.executable, "-c", CHILD, str(config), str(work_dir), DATABASE),
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            raise RuntimeError(f"the drill crashed:\n{completed.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        if result["failure"] or result["missing"]:
            raise RuntimeError(f"the drill did not pass: {result}")
        return result
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def measure(size_mb: float, rounds: int, bin_dir: Path, parent: Path) -> dict[str, Any]:
    with source_stanza(bin_dir, parent, size_mb / MB_PER_SCALE) as (config, generated):
        _warm(config.parent / "repo")
        floors, tuned, drills = [], [], []
        for _ in range(rounds):
            floors.append(floor(bin_dir, config, parent, tuned=False))
            drills.append(drill(config, parent))
            tuned.append(floor(bin_dir, config, parent, tuned=True))
    best_floor = statistics.median(total for _, total in floors)
    best_tuned = statistics.median(total for _, total in tuned)
    recovery = statistics.median(d["restore_s"] + d["replay_s"] for d in drills)
    whole = statistics.median(d["total_s"] for d in drills)
    return {
        "size_mb": size_mb,
        "database_mib": round(generated["database_bytes"] / 2**20, 1),
        "repo_mib": generated["repo_mib"],
        "archive": generated["archive"],
        "floor_s": round(best_floor, 2),
        "floor_restore_s": round(statistics.median(restore for restore, _ in floors), 2),
        "tuned_floor_s": round(best_tuned, 2),
        "tuned_recovery_ratio": round(recovery / best_tuned, 3),
        "drill": drills[-1],
        "drill_recovery_s": round(recovery, 2),
        "drill_total_s": round(whole, 2),
        "recovery_ratio": round(recovery / best_floor, 3),
        "whole_ratio": round(whole / best_floor, 3),
        "peak_rss_mib": max(d["peak_rss_mib"] for d in drills),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="50,500", help="comma-separated database sizes in MB")
    parser.add_argument("--rounds", type=int, default=1, help="floor and drill runs per size (median)")
    arguments = parser.parse_args(argv)
    if shutil.which("pgbackrest") is None:
        sys.exit("pgbackrest is not installed (apt-get install pgbackrest)")
    bin_dir = postgres_bin_dir()
    parent = Path(tempfile.mkdtemp(prefix="dbp-"))
    parent.chmod(0o755)
    try:
        results = [
            measure(float(size), arguments.rounds, bin_dir, parent) for size in arguments.sizes.split(",")
        ]
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    print("| database | repo (lz4) | floor by hand (restore) | floor, drill's tuning | drill restore+replay | "
          "ratio / tuned ratio | drill verify | drill total | whole/floor | drill peak RSS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        d = r["drill"]
        print(
            f"| {r['database_mib']} MiB | {r['repo_mib']} MiB | {r['floor_s']} s ({r['floor_restore_s']} s) | "
            f"{r['tuned_floor_s']} s | {r['drill_recovery_s']} s ({d['restore_s']:.2f} + {d['replay_s']:.2f}) | "
            f"{r['recovery_ratio']} / {r['tuned_recovery_ratio']} | {d['verify_s']:.2f} s | "
            f"{r['drill_total_s']} s | {r['whole_ratio']} | {r['peak_rss_mib']} MiB |"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pgbackrest_restore.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
