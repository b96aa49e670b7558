"""A credential shape found in a file: where, what, and its masked form."""

from __future__ import annotations

from dataclasses import dataclass

from drill.facts import SightingKind


@dataclass(frozen=True)
class Shape:
    offset: int
    kind: SightingKind
    what: str
    masked: str
    targets: tuple[str, ...] = ()
    end: int | None = None  # where a shape of several lines (a PEM block) ends; None: one line


def placeholder(value: bytes) -> bool:
    """Example keys from the AWS documentation, references to other variables, templates."""
    return b"EXAMPLE" in value or value.startswith((b"$", b"<", b"{{", b"%"))
