"""A report directory of a quarter's runs, and what the pack tests read out of the packs built from it."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from drill.model import DrillRun
from drill.reports.directory import RUN_HTML, RUN_JSON, RUNS
from drill.reports.pack import (
    Pack,
    build_pack,
)
from drill.reports.period import Period

Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))
FOLDER = "drill-evidence-2026-07-01-to-2026-09-30"
BUILT = datetime(2026, 10, 2, 9, 30, tzinfo=UTC)
HOSTILE = "Newest snapshot of orders is 3d old <script>alert(1)</script>."


@dataclass(frozen=True)
class Quarter:
    report_dir: Path
    inside: tuple[DrillRun, ...]
    outside: tuple[DrillRun, ...]


def build(quarter: Quarter, out: Path | None = None) -> Pack:
    return build_pack(
        quarter.report_dir, Q3, out or quarter.report_dir.parent / "packs" / "q3.zip", now=BUILT
    )


def contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def run_files(*runs: DrillRun) -> set[str]:
    return {f"{FOLDER}/{RUNS}/{run.run_id}/{name}" for run in runs for name in (RUN_JSON, RUN_HTML)}


def rewrite(source: Path, destination: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of the archive with some entries' bytes replaced (None: removed) or new entries added."""
    pending = dict(changes)
    with zipfile.ZipFile(source) as reader, zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as writer:
        for info in reader.infolist():
            if info.filename not in pending:
                writer.writestr(info, reader.read(info))
            elif (data := pending.pop(info.filename)) is not None:
                writer.writestr(info, data)
        for name, data in pending.items():
            assert data is not None, f"{name} is not in the archive"
            writer.writestr(name, data)
    return destination


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
