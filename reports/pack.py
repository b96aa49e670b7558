"""The evidence pack: one zip archive of a review period's runs, with a manifest of SHA-256 digests.

    drill-evidence-<since>-to-<until>/summary.html          what the period proves
    drill-evidence-<since>-to-<until>/runs/<run id>/run.json
    drill-evidence-<since>-to-<until>/runs/<run id>/report.html
    drill-evidence-<since>-to-<until>/history.jsonl         the period's history lines
    drill-evidence-<since>-to-<until>/baseline.json         the approved baseline, when there is one
    drill-evidence-<since>-to-<until>/MANIFEST.sha256       every other file's digest

The manifest is in ``sha256sum`` format, so ``sha256sum -c MANIFEST.sha256`` in the unpacked
folder verifies the pack with no drill installed; ``drill verify-pack`` does the same on the
archive and also refuses files the manifest does not list. A manifest shows that the files agree
with it; that nobody rewrote both is shown by the manifest's own digest, which ``drill report``
prints so that it can be recorded outside the pack (the review ticket).

Files are streamed into the archive and hashed on the way: nothing is held in memory whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from drill import history
from drill.reports.directory import RUN_HTML, RUN_JSON, RUNS, kept_runs
from drill.reports.formatting import as_datetime
from drill.reports.html import render_pack_summary, render_report
from drill.reports.pack_baseline import BaselineAccumulator
from drill.reports.period import Period, PeriodAccumulator, PeriodSummary

MANIFEST = "MANIFEST.sha256"
SUMMARY = "summary.html"
HISTORY = "history.jsonl"
BASELINE = "baseline.json"
_CHUNK = 1 << 20
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")
# A digest, two spaces, a name (a zip holds names up to 65,535 bytes) and the line's end.
_MAX_MANIFEST_LINE = 64 + 2 + 65_535 + 2
MAX_NAMED_MISSING = 1000  # missing files named one by one; the rest are counted


@dataclass(frozen=True)
class Pack:
    path: Path
    summary: PeriodSummary
    files: int
    manifest_sha256: str
    archive_sha256: str


def folder_name(period: Period) -> str:
    return f"drill-evidence-{period.since.isoformat()}-to-{period.until.isoformat()}"


class _Writer:
    """Adds files to the archive under one folder, hashing each as it streams through."""

    def __init__(self, archive: zipfile.ZipFile, folder: str, written_at: datetime) -> None:
        self.archive = archive
        self.folder = folder
        # Every entry carries the pack's own time, so the same runs and time give the same bytes.
        self.date_time = written_at.astimezone(UTC).timetuple()[:6]
        self.digests: list[tuple[str, str]] = []

    def _open(self, name: str) -> IO[bytes]:
        info = zipfile.ZipInfo(f"{self.folder}/{name}", date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return self.archive.open(info, "w")

    def add_file(self, name: str, source: Path) -> None:
        digest = hashlib.sha256()
        with source.open("rb") as reader, self._open(name) as writer:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
        self.digests.append((digest.hexdigest(), name))

    def add_lines(self, name: str, lines: Iterable[bytes]) -> None:
        digest = hashlib.sha256()
        with self._open(name) as writer:
            for line in lines:
                digest.update(line)
                writer.write(line)
        self.digests.append((digest.hexdigest(), name))

    def add_bytes(self, name: str, data: bytes) -> str:
        with self._open(name) as writer:
            writer.write(data)
        digest = hashlib.sha256(data).hexdigest()
        self.digests.append((digest, name))
        return digest


def build_pack(
    report_dir: Path, period: Period, out: Path, *, now: datetime | None = None, baseline: Path | None = None
) -> Pack:
    """Write the pack for ``period`` to ``out`` (atomically) from the runs ``report_dir`` kept, with
    the approved baseline file (default: baseline.json in ``report_dir``) when there is one."""
    generated_at = now or datetime.now(UTC)
    accumulator = PeriodAccumulator(period)
    drift = BaselineAccumulator()
    baseline = baseline or report_dir / BASELINE
    folder = folder_name(period)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            writer = _Writer(archive, folder, generated_at)
            included = _add_runs(report_dir, period, (accumulator, drift), writer)
            accumulator.summary_only = _add_history(report_dir, period, included, writer)
            summary = accumulator.summary(generated_at)
            section = drift.section(baseline)
            if section.current is not None and baseline.is_file():
                writer.add_file(BASELINE, baseline)
            writer.add_bytes(SUMMARY, render_pack_summary(summary, folder=folder, baseline=section).encode())
            manifest = "".join(f"{digest}  {name}\n" for digest, name in sorted(writer.digests, key=_by_name))
            manifest_sha256 = writer.add_bytes(MANIFEST, manifest.encode())
            files = len(writer.digests) - 1
        with Path(temporary).open("rb+") as written:  # on disk before it takes the name
            os.fsync(written.fileno())
        Path(temporary).chmod(0o644)
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Pack(out, summary, files, manifest_sha256, _sha256_of(out))


def _by_name(entry: tuple[str, str]) -> str:
    return entry[1]


def _add_runs(
    report_dir: Path,
    period: Period,
    accumulators: tuple[PeriodAccumulator, BaselineAccumulator],
    writer: _Writer,
) -> set[str]:
    """Each kept run of the period, oldest first: its JSON as recorded, its page (re-rendered if lost)."""
    accumulator, drift = accumulators
    included: set[str] = set()
    for kept in kept_runs(report_dir, started=period.holds):
        included.add(kept.run_id)
        if kept.run is None:
            accumulator.unreadable(kept.run_id, kept.problem or "unreadable")
            # Packed as found, so that a reviewer sees what could not be read.
            for name in (RUN_JSON, RUN_HTML):
                if (kept.directory / name).is_file():
                    writer.add_file(f"{RUNS}/{kept.run_id}/{name}", kept.directory / name)
            continue
        accumulator.add(kept.run)
        drift.add(kept.run)
        writer.add_file(f"{RUNS}/{kept.run_id}/{RUN_JSON}", kept.directory / RUN_JSON)
        page = kept.directory / RUN_HTML
        if page.is_file():
            writer.add_file(f"{RUNS}/{kept.run_id}/{RUN_HTML}", page)
        else:
            writer.add_bytes(f"{RUNS}/{kept.run_id}/{RUN_HTML}", render_report(kept.run).encode())
    return included


def _add_history(report_dir: Path, period: Period, included: set[str], writer: _Writer) -> int:
    """The period's history lines, streamed; returns how many name a run whose full record was not kept."""
    summary_only = 0

    def lines() -> Iterator[bytes]:
        nonlocal summary_only
        for entry in history.entries(report_dir):
            started = as_datetime(entry.get("started_at"))
            if started is None or not period.holds(started):
                continue
            if entry.get("run_id") not in included:
                summary_only += 1
            yield (json.dumps(entry, separators=(",", ":")) + "\n").encode()

    writer.add_lines(HISTORY, lines())
    return summary_only


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class PackError(Exception):
    """Not an evidence pack at all: not a zip, or no manifest."""


@dataclass(frozen=True)
class Verification:
    checked: int
    mismatched: tuple[str, ...]
    missing: tuple[str, ...]  # the first MAX_NAMED_MISSING, in the manifest's order
    unlisted: tuple[str, ...]
    manifest_sha256: str
    missing_total: int = 0  # all of them: a forged manifest may list millions

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing_total or self.unlisted)


def _entries(archive: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    return (info for info in archive.infolist() if not info.is_dir())


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """The entry's SHA-256, or None when its bytes were changed inside the archive (they no longer
    inflate, or fail their CRC): a corrupted file is a mismatch, not a crash of the verifier."""
    digest = hashlib.sha256()
    try:
        with archive.open(info) as reader:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        return None
    return digest.hexdigest()


@dataclass
class _Tally:
    """What the manifest's lines found, in memory bounded by the archive's entries, not the manifest."""

    present: dict[str, list[zipfile.ZipInfo]]
    listed: set[str] = field(default_factory=set)  # names both listed and present
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    missing_total: int = 0

    def line(self, archive: zipfile.ZipFile, name: str, expected: str, number: int, where: str) -> None:
        infos = self.present.get(name)
        if infos is None:
            self.missing_total += 1
            if len(self.missing) < MAX_NAMED_MISSING:
                self.missing.append(name)
            return
        if name in self.listed:
            raise PackError(f"{where}: {MANIFEST} line {number} lists {name} a second time")
        self.listed.add(name)
        # A name stored twice is checked in every copy: a reader may be shown either of them.
        if any(_digest(archive, info) != expected for info in infos):
            self.mismatched.append(name)


def _manifest_lines(reader: IO[bytes], where: str, digest: Any) -> Iterator[tuple[int, str, str]]:
    """(line number, digest, name) of each line, read one at a time and hashed on the way."""
    number = 0
    while line := reader.readline(_MAX_MANIFEST_LINE + 1):
        number += 1
        digest.update(line)
        if len(line) > _MAX_MANIFEST_LINE:
            raise PackError(f"{where}: {MANIFEST} line {number} is longer than any name a zip can hold")
        match = _MANIFEST_LINE.match(line.rstrip(b"\n").decode("utf-8", "replace"))
        if not match:
            raise PackError(f"{where}: {MANIFEST} line {number} is not '<sha256>  <file>'")
        yield number, match.group(1), match.group(2)


def verify_pack(path: Path) -> Verification:
    """Recompute every file's digest and compare it with the manifest; unlisted files fail too.

    The manifest is streamed a line at a time and each listed file is checked as its line is read,
    so memory does not grow with the manifest (only with the archive's own entries, which zipfile
    holds anyway): a forged manifest of a billion lines costs time, not memory.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise PackError(f"{path}: not a zip archive: {error}") from None
    with archive:
        manifests = [info for info in _entries(archive) if info.filename.endswith(f"/{MANIFEST}")]
        if len(manifests) != 1:
            raise PackError(f"{path}: expected one {MANIFEST}, found {len(manifests)}")
        folder = manifests[0].filename[: -len(MANIFEST)]
        present: dict[str, list[zipfile.ZipInfo]] = {}
        outside: list[str] = []
        for info in _entries(archive):
            if info is manifests[0]:
                continue
            if info.filename.startswith(folder):
                present.setdefault(info.filename[len(folder) :], []).append(info)
            else:
                outside.append(info.filename)
        tally = _Tally(present)
        manifest_digest = hashlib.sha256()
        try:
            with archive.open(manifests[0]) as reader:
                for number, expected, name in _manifest_lines(reader, str(path), manifest_digest):
                    tally.line(archive, name, expected, number, str(path))
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise PackError(f"{path}: {MANIFEST} cannot be read: {error}") from None
        return Verification(
            checked=len(tally.listed),
            mismatched=tuple(sorted(tally.mismatched)),
            missing=tuple(tally.missing),
            unlisted=tuple(sorted([name for name in present if name not in tally.listed] + outside)),
            manifest_sha256=manifest_digest.hexdigest(),
            missing_total=tally.missing_total,
        )
