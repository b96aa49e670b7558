"""Peak memory of `drill verify-pack` as the manifest grows: it must stay flat.

    python bench/pack_verify.py                        # manifests of 10^5, 10^6 and 3x10^6 lines
    python bench/pack_verify.py --lines 100000,1000000 --baseline-ref main

Each pack is one small real pack's files (a summary, a history file) plus a manifest that lists
them and then N files the archive does not hold, as a forged or truncated pack would: the case
where the manifest, not the archive, is what grows. Each verification runs in a fresh child
process, so its peak RSS (``ru_maxrss``) is its own. ``--baseline-ref`` also measures the
``reports/pack.py`` of that git revision (read with ``git show``, nothing checked out), to compare.

A measurement, never a pass/fail; results also go to ``bench/out/pack_verify.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "pack_verify.json"
FOLDER = "drill-evidence-2026-10-01-to-2026-12-31"


def forged_pack(path: Path, lines: int) -> int:
    """A pack whose manifest lists its two files and ``lines`` more it does not hold; its size in bytes."""
    files = {"summary.html": b"<html>summary</html>\n", "history.jsonl": b'{"schema":"drill.history/v1"}\n'}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{FOLDER}/{name}", data)
        with archive.open(f"{FOLDER}/MANIFEST.sha256", "w", force_zip64=True) as manifest:
            for name, data in sorted(files.items()):
                manifest.write(f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode())
            digest = "0" * 64
            batch: list[str] = []
            for index in range(lines):
                batch.append(f"{digest}  runs/20261001T000000Z-{index:08x}/run.json\n")
                if len(batch) == 10_000:
                    manifest.write("".join(batch).encode())
                    batch.clear()
            manifest.write("".join(batch).encode())
        size: int = archive.getinfo(f"{FOLDER}/MANIFEST.sha256").file_size
    return size


def measure(pack: Path, module: Path | None) -> dict[str, Any]:
    """Verify ``pack`` in a child process; its seconds, peak RSS and what it found."""
    arguments = [sys.executable, __file__, "--measure", str(pack)]
    if module is not None:
        arguments += ["--module", str(module)]
    started = time.monotonic()
    child = subprocess.Popen(arguments, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    assert child.stdout is not None
    found = json.loads(child.stdout.read() or "{}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "status": status,
        **found,
    }


def child(pack: Path, module: Path | None) -> None:
    if module is None:
        from drill.reports.pack import verify_pack  # noqa: PLC0415 - which code is measured is chosen here
    else:
        spec = importlib.util.spec_from_file_location("baseline_pack", module)
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules["baseline_pack"] = loaded  # dataclasses look their module up there
        spec.loader.exec_module(loaded)
        verify_pack = loaded.verify_pack
    verification = verify_pack(pack)
    missing = getattr(verification, "missing_total", len(verification.missing))
    print(json.dumps({"checked": verification.checked, "missing": missing, "ok": verification.ok}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", default="100000,1000000,3000000")
    parser.add_argument("--baseline-ref", help="also measure reports/pack.py of this git revision")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--module", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        child(options.measure, options.module)
        return
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="drill-bench-pack-") as scratch:
        baseline = None
        if options.baseline_ref:
            baseline = Path(scratch) / "baseline_pack.py"
            source = subprocess.run(
                ["git", "show", f"{options.baseline_ref}:reports/pack.py"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
            baseline.write_bytes(source)
        for lines in (int(part) for part in options.lines.split(",")):
            pack = Path(scratch) / f"pack-{lines}.zip"
            manifest_bytes = forged_pack(pack, lines)
            for label, module in (("this drill", None), (options.baseline_ref, baseline)):
                if label is None:
                    continue
                row = {"lines": lines, "manifest_mib": round(manifest_bytes / 2**20, 1), "code": label}
                row.update(measure(pack, module))
                results.append(row)
                print(
                    f"{lines:>9,} lines ({row['manifest_mib']:>6} MiB manifest), {label}: "
                    f"peak RSS {row['peak_rss_mib']} MiB in {row['seconds']} s, "
                    f"{row.get('missing')} missing counted"
                )
            pack.unlink()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
