"""Benchmark the credential_exposure scan on a generated agent workspace.

    python bench/exposure.py                 # 20,000 files, about 500 MB, 20 known values
    python bench/exposure.py --quick         # 2,000 files, about 50 MB
    python bench/exposure.py --files 5000 --megabytes 100 --keep /tmp/tree

The tree mixes text files (source-like lines, some of them a .env, a .pgpass or an AWS
credentials file, a few holding one of the known values), binaries (a NUL byte early on) and
files above the 1 MiB limit. It reports files per second, MB per second (bytes of the tree per
second of scan, skipped files included, and bytes actually searched per second), the sightings,
and peak RSS. It is a measurement, never a pass/fail on timing.

Each measurement runs in a fresh child process (``--measure``), so its peak RSS is its own. The
tree has just been written, so it is read from the page cache: these are CPU figures, not disk
figures. Two layouts are measured: one agent over the whole tree, and the same tree as four
agents' workspaces scanned one after another and then on four threads (the question of whether
``collect_agents`` gains from its thread pool).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import string
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "exposure.json"
KNOWN_TARGETS = 10  # each holds a key id and a secret: 20 known values
PARTS = 4


def _known_values(rng: random.Random) -> dict[str, str]:
    upper = string.ascii_uppercase + string.digits
    secret_alphabet = string.ascii_letters + string.digits + "/+"
    environ = {}
    for index in range(KNOWN_TARGETS):
        environ[f"BENCH_KEY_ID_{index}"] = "AKIA" + "".join(rng.choices(upper, k=16))
        environ[f"BENCH_SECRET_{index}"] = "".join(rng.choices(secret_alphabet, k=40))
    return environ


def _config(environ: dict[str, str], agents: list[list[str]]) -> Any:
    sys.path.insert(0, str(ROOT))
    from drill.config import Agent, Config, Credentials, Target, TargetType  # noqa: PLC0415

    targets = tuple(
        Target(
            name=f"vault-{index}",
            type=TargetType.S3,
            bucket=f"vault-{index}",
            site=f"aws:{index}",
            credentials=Credentials(
                access_key_id_env=f"BENCH_KEY_ID_{index}", secret_access_key_env=f"BENCH_SECRET_{index}"
            ),
        )
        for index in range(KNOWN_TARGETS)
    )
    return Config(
        targets=targets,
        agents=tuple(Agent(name=f"agent-{index}", paths=tuple(paths)) for index, paths in enumerate(agents)),
    )


# ---------------------------------------------------------------------------------------------
# The tree


def generate(
    root: Path, files: int, megabytes: int, environ: dict[str, str], seed: int = 7
) -> dict[str, int]:
    """Write the tree: about 79% text, 20% binary, 1% above 1 MiB."""
    rng = random.Random(seed)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(4000)]
    lines = [
        f"{' ' * rng.choice((0, 4, 8))}{rng.choice(words)} = {rng.choice(words)}({', '.join(rng.choices(words, k=3))})"
        for _ in range(50_000)
    ]
    pool = ("\n".join(lines) + "\n").encode()
    binary_pool = os.urandom(2_000_000).replace(b"\0", b"\1")
    budget = megabytes * 1_000_000
    large_size = 1_200_000
    # About 1% of the files, and no more than a fifth of the bytes, lie above the size limit.
    large = max(1, min(files // 100, budget // 5 // large_size))
    large_every = files // large
    mean = max(budget - large * large_size, files * 1000) // (files - large)
    values = list(environ.values())
    counts = {"text": 0, "binary": 0, "large": 0, "planted": 0, "bytes": 0}

    for index in range(files):
        directory = (
            root / f"part-{index % PARTS}" / f"d{(index // PARTS) % 50:02}" / f"e{(index // 200) % 20:02}"
        )
        directory.mkdir(parents=True, exist_ok=True)
        if index % large_every == large_every - 1:
            offset = rng.randrange(0, len(pool) - large_size)
            content = pool[offset : offset + large_size]
            name, kind = f"big-{index}.log", "large"
        elif index % 5 == 2:
            size = max(100, int(rng.expovariate(1 / mean)))
            size = min(size, 1_000_000, len(binary_pool) - 1)
            offset = rng.randrange(0, len(binary_pool) - size)
            content = b"\x7fELF\0" + binary_pool[offset : offset + size]
            name, kind = f"lib-{index}.so", "binary"
        else:
            size = min(max(100, int(rng.expovariate(1 / mean))), 1_000_000)
            offset = rng.randrange(0, len(pool) - size)
            content = pool[offset : offset + size]
            name, kind = rng.choice(
                [(f"mod_{index}.py", "text")] * 96
                + [
                    (".env", "text"),
                    (".pgpass", "text"),
                    ("credentials", "text"),
                    (f"notes-{index}.md", "text"),
                ]
            )
            if name == ".env":
                content += b"PGPASSWORD=not-a-backup-secret\n"
            elif name == ".pgpass":
                content = b"db.internal:5432:orders:app:not-a-backup-secret\n"
            elif name == "credentials":
                content = b"[ci]\naws_access_key_id = AKIAQQQQQQQQQQQQQQQQ\n"
            if index % 997 == 0:  # a known value in about one file in a thousand
                content += f"\nleaked = {values[index % len(values)]}\n".encode()
                counts["planted"] += 1
        (directory / name).write_bytes(content)
        counts[kind] += 1
        counts["bytes"] += len(content)
    return counts


# ---------------------------------------------------------------------------------------------
# The measuring child


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(tree: Path, layout: str, environ_file: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from drill.trust.exposure.learn import known_credentials  # noqa: PLC0415
    from drill.trust.exposure.walk import scan  # noqa: PLC0415

    environ = json.loads(environ_file.read_text())
    if layout == "one-agent":
        groups = [[str(tree)]]
        workers = 1
    else:
        groups = [[str(tree / f"part-{index}")] for index in range(PARTS)]
        workers = 1 if layout == "four-agents-sequential" else PARTS
    config = _config(environ, groups)
    known = known_credentials(config, environ)
    baseline = _peak_rss_mib()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        exposures = list(pool.map(lambda agent: scan(agent, known), config.agents))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    stats = [exposure.stats for exposure in exposures]
    files = sum(
        item.files_scanned + item.skipped_binary + item.skipped_large for item in stats
    )  # every regular file the walk met
    searched = sum(item.bytes_scanned for item in stats)
    kinds: dict[str, int] = {}
    for exposure in exposures:
        for sighting in exposure.sightings:
            kinds[sighting.kind.value] = kinds.get(sighting.kind.value, 0) + 1
    return {
        "layout": layout,
        "workers": workers,
        "known_values": len(known.values),
        "files": files,
        "files_searched": sum(item.files_scanned for item in stats),
        "skipped_binary": sum(item.skipped_binary for item in stats),
        "skipped_large": sum(item.skipped_large for item in stats),
        "bytes_searched": searched,
        "sightings": kinds,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "files_per_second": round(files / wall),
        "searched_mb_per_second": round(searched / wall / 1e6, 1),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "rss_before_scan_mib": round(baseline, 1),
    }


def _run_child(tree: Path, layout: str, environ_file: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", str(tree), layout, str(environ_file)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="2,000 files, 50 MB")
    parser.add_argument("--keep", type=Path, help="write the tree here and keep it")
    parser.add_argument("--measure", nargs=3, metavar=("TREE", "LAYOUT", "ENVIRON"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        tree, layout, environ_file = arguments.measure
        print(json.dumps(measure(Path(tree), layout, Path(environ_file))))
        return
    files, megabytes = (2_000, 50) if arguments.quick else (arguments.files, arguments.megabytes)
    workdir = Path(tempfile.mkdtemp(prefix="drill-bench-exposure-"))
    tree = arguments.keep or workdir / "tree"
    try:
        environ = _known_values(random.Random(11))
        environ_file = workdir / "environ.json"
        environ_file.write_text(json.dumps(environ))
        started = time.perf_counter()
        counts = generate(tree, files, megabytes, environ)
        print(
            f"tree: {files:,} files ({counts['text']:,} text, {counts['binary']:,} binary, "
            f"{counts['large']:,} above 1 MiB), {counts['bytes'] / 1e6:,.0f} MB, "
            f"{counts['planted']} with a known value; written in {time.perf_counter() - started:.1f}s"
        )
        results = [
            _run_child(tree, layout, environ_file)
            for layout in ("one-agent", "four-agents-sequential", "four-agents-threads")
        ]
        for result in results:
            print(
                f"{result['layout']:>24}: {result['seconds']:6.2f}s wall, {result['cpu_seconds']:6.2f}s CPU, "
                f"{result['files_per_second']:>7,} files/s, {counts['bytes'] / result['seconds'] / 1e6:7.1f} MB/s of tree, "
                f"{result['searched_mb_per_second']:7.1f} MB/s searched, peak RSS {result['peak_rss_mib']:.0f} MiB "
                f"(before the scan {result['rss_before_scan_mib']:.0f}), sightings {result['sightings']}"
            )
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps({"tree": counts, "results": results}, indent=2) + "\n")
        print(f"written to {OUT.relative_to(ROOT)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
