"""Byte sizes as the config spells them (``"256MiB"``, ``"2GB"``, ``"500000"``) and as messages show them."""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(text: str) -> int:
    """Parse ``"256MiB"`` and friends into bytes; raise ValueError with a reason a user can act on."""
    match = _SIZE.fullmatch(text.strip().lower())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(
            f"{text!r} is not a size; write a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), "
            "such as '256MiB' or '2GB'"
        )
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size <= 0:
        raise ValueError(f"{text!r} is zero; a size must be more than that")
    return size


def format_size(size: int) -> str:
    """``268435456`` -> ``"256.0 MiB"``: binary units, one decimal, bytes below 1 KiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover
