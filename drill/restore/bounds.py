"""Bounds on what a snapshot can make drill write to disk.

A gzip stream expands a thousandfold and a zstd one far more; a custom-format dump of a few
megabytes can fill gigabytes of table data. So every expansion of a snapshot is counted as it
happens: the unwrapped download, the unpacked directory dump and the scratch cluster's growth
during the restore. Each must stay within ``[restore] max_expanded_size`` when that is set, and
none may bring the scratch filesystem's free space under 5% of its size. Crossing either stops
the step at once and fails the drill with the bound and the size reached; the caller's context
managers remove what was written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from drill.sizes import format_size

FREE_SPACE_FLOOR = 0.05
LIMIT_KEY = "[restore] max_expanded_size"


class BoundExceeded(Exception):
    """A snapshot expanded past a bound; the message names the bound and the size reached."""


@dataclass(frozen=True)
class DiskBudget:
    """The bounds for one drill's writes on the filesystem holding ``where``."""

    where: Path
    limit: int | None = None  # [restore] max_expanded_size, bytes
    floor: float = FREE_SPACE_FLOOR  # the fraction of the filesystem that must stay free

    def check(self, reached: int, what: str, *, coming: int = 0) -> None:
        """Raise BoundExceeded if ``what`` at ``reached`` bytes (``coming`` more about to be written)
        is past the limit, or leaves the filesystem under its free-space floor."""
        if self.limit is not None and reached + coming > self.limit:
            raise BoundExceeded(
                f"{what} expands past {LIMIT_KEY} = {format_size(self.limit)}: it was stopped at "
                f"{format_size(reached)}, and nothing of it is kept."
            )
        try:
            stats = os.statvfs(self.where)
        except OSError:
            return  # the directory is being removed: the write itself will fail and say why
        total = stats.f_blocks * stats.f_frsize
        free = stats.f_bavail * stats.f_frsize - coming
        if total and free < self.floor * total:
            raise BoundExceeded(
                f"{what} reached {format_size(reached)}{_coming(coming)}, which left the scratch "
                f"filesystem of {self.where} {max(free, 0) / total:.1%} free, under drill's floor of "
                f"{self.floor:.0%}; it was stopped and nothing of it is kept. Give [restore] work_dir a "
                f"larger filesystem, or set {LIMIT_KEY} to say how large a snapshot may become."
            )


def _coming(coming: int) -> str:
    return f" with {format_size(coming)} more to write" if coming else ""


class BoundedWriter:
    """A file-like sink that counts what passes through it and checks the budget before each write."""

    def __init__(self, out: BinaryIO, budget: DiskBudget, what: str) -> None:
        self.out = out
        self.budget = budget
        self.what = what
        self.written = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.budget.check(self.written, self.what, coming=len(data))
        self.written += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


@dataclass
class GrowthWatch:
    """Polled while a restore runs: the scratch cluster's growth since the watch began, against the budget.

    Returns the reason to stop the restore, or None. Free space is read every call (one statvfs);
    the cluster's size is walked only when a limit is set.
    """

    root: Path
    budget: DiskBudget
    baseline: int = field(init=False)

    def __post_init__(self) -> None:
        self.baseline = tree_size(self.root)

    def __call__(self) -> str | None:
        grown = tree_size(self.root) - self.baseline if self.budget.limit is not None else 0
        try:
            self.budget.check(grown, "The restored database")
        except BoundExceeded as exceeded:
            if self.budget.limit is None:
                grown = tree_size(self.root) - self.baseline  # for the message only
                try:
                    self.budget.check(grown, "The restored database")
                except BoundExceeded as measured:
                    return str(measured)
            return str(exceeded)
        return None


def tree_size(root: Path) -> int:
    """Bytes in the files under ``root``, not following links; files vanishing meanwhile are skipped."""
    total = 0
    pending = [root]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total
