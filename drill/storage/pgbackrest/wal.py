"""WAL segment names and positions: which segment an LSN falls in, and which ones a range lacks.

A segment's name is three 8-digit hex numbers: the timeline, then the segment number split into
"log" and "segment within the log", where a log is 4 GiB of WAL. How many segments a log holds
depends on the cluster's segment size (``initdb --wal-segsize``), which no info output states;
it is inferred from a backup whose start LSN and first segment are both known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SEGMENT = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$")
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_LOG_BYTES = 1 << 32
# initdb accepts powers of two from 1 MiB to 1 GiB.
SEGMENT_SIZES = tuple(1 << exponent for exponent in range(20, 31))


@dataclass(frozen=True, order=True)
class Segment:
    """A WAL segment by timeline and number; its name needs the segment size."""

    timeline: int
    number: int

    def name(self, segment_size: int) -> str:
        per_log = _LOG_BYTES // segment_size
        return f"{self.timeline:08X}{self.number // per_log:08X}{self.number % per_log:08X}"


def is_segment_name(name: str) -> bool:
    return bool(_SEGMENT.match(name))


def parse_segment(name: str, segment_size: int) -> Segment:
    """``000000010000000000000009`` with 16 MiB segments -> Segment(1, 9); ValueError if not a name."""
    match = _SEGMENT.match(name)
    if not match or segment_size not in SEGMENT_SIZES:
        raise ValueError(f"{name!r} is not a WAL segment name")
    timeline, log, within = (int(part, 16) for part in match.groups())
    per_log = _LOG_BYTES // segment_size
    if within >= per_log:
        raise ValueError(f"{name!r} is not a segment of a cluster with {segment_size} byte segments")
    return Segment(timeline, log * per_log + within)


def parse_lsn(lsn: str) -> int:
    """``0/9000028`` -> its byte position; ValueError if it is not an LSN."""
    match = _LSN.match(lsn.strip())
    if not match:
        raise ValueError(f"{lsn!r} is not an LSN")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


def segment_size_of(lsn: str, segment: str) -> int | None:
    """The segment size for which ``lsn`` lies in ``segment``; None when no size or several fit.

    Two sizes can both fit only for positions in the first segments of a cluster's life, which no
    backup's start LSN is.
    """
    try:
        position = parse_lsn(lsn)
    except ValueError:
        return None
    fitting = []
    for size in SEGMENT_SIZES:
        try:
            if parse_segment(segment, size).number == position // size:
                fitting.append(size)
        except ValueError:
            continue
    return fitting[0] if len(fitting) == 1 else None


def segment_before(position: int, timeline: int, segment_size: int) -> Segment:
    """The segment holding the byte just before ``position``: the last one a recovery that ended at
    ``position`` replayed, also when ``position`` is a segment's first byte (after a WAL switch)."""
    return Segment(timeline, max(position - 1, 0) // segment_size)


def missing_between(
    present: Iterable[Segment], first: Segment, last: Segment, *, keep: int = 20
) -> tuple[tuple[Segment, ...], int]:
    """Segment numbers from ``first`` to ``last`` that no listed segment of a timeline from
    ``first``'s on holds: the first ``keep`` of them, and how many in all.

    A promotion starts a new timeline partway: a number held on any later timeline is no hole.
    The work grows with what is listed, never with the distance between the two ends (a crafted
    name far ahead must not make drill count to it).
    """
    held = sorted(
        {
            s.number
            for s in present
            if s.timeline >= first.timeline and first.number <= s.number <= last.number
        }
    )
    count = last.number - first.number + 1 - len(held)
    missing: list[Segment] = []
    expected = first.number
    for number in [*held, last.number + 1]:
        while expected < number and len(missing) < keep:
            missing.append(Segment(first.timeline, expected))
            expected += 1
        if len(missing) >= keep:
            break
        expected = number + 1
    return tuple(missing), max(count, 0)


def log_directory(name: str) -> tuple[int, int] | None:
    """An archive directory's timeline and log (``0000000100000000`` -> (1, 0)); None for anything else."""
    if len(name) != 16 or not all(character in "0123456789ABCDEF" for character in name):
        return None
    return int(name[:8], 16), int(name[8:], 16)


def holds_between(directory: tuple[int, int], first: Segment, last: Segment, segment_size: int) -> bool:
    """Whether an archive directory can hold segments from ``first`` to ``last``."""
    timeline, log = directory
    per_log = _LOG_BYTES // segment_size
    return first.timeline <= timeline <= last.timeline and (
        first.number // per_log <= log <= last.number // per_log
    )
