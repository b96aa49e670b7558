"""Names from storage are data: every name a store (or a scanned directory) hands out is printable text.

A backup store can hold names no report can carry as they are: a file name on a filesystem
target need not be UTF-8, and an S3 key may hold control characters (an escape sequence that
repaints a terminal, a newline that forges a log line, a character XML 1.0 forbids). Stores
therefore escape each name once, where they read it, and every name in facts, findings and
reports is the escaped text; a store turns it back into the raw name only to read the object.

The escaped form is reversible and unambiguous:

- ``\\\\`` is a backslash;
- ``\\xNN`` is a byte that is not part of valid UTF-8 (a filesystem name);
- ``\\uNNNN`` and ``\\UNNNNNNNN`` are a control, format or unassigned character, or a line or
  paragraph separator, by code point.

Snapshot patterns match the escaped form.
"""

from __future__ import annotations

import re
import unicodedata

# Control (Cc), format (Cf: bidi overrides, zero-width characters), lone surrogates (Cs), line and
# paragraph separators (Zl, Zp) and unassigned code points (Cn: U+FFFE and U+FFFF are not XML).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Cn"})
# os.fsdecode turns each byte that is not UTF-8 into one of these (PEP 383, surrogateescape).
_SMUGGLED_BYTES = range(0xDC80, 0xDD00)
_ESCAPE = re.compile(r"\\(?:(\\)|x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def _escaped(character: str) -> str:
    point = ord(character)
    if character == "\\":
        return "\\\\"
    if point in _SMUGGLED_BYTES:
        return f"\\x{point - 0xDC00:02x}"
    if unicodedata.category(character) not in _ESCAPED_CATEGORIES:
        return character
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def escape_name(raw: str) -> str:
    """The printable text of a name as a store holds it (a filesystem name as ``os.fsdecode`` reads it)."""
    if raw.isascii() and raw.isprintable() and "\\" not in raw:
        return raw  # the common case, without a look at each character
    return "".join(_escaped(character) for character in raw)


def unescape_name(name: str) -> str:
    """The raw name that ``escape_name`` turned into ``name``; ValueError when ``name`` is no such text.

    A byte that was not UTF-8 comes back as its surrogate escape, so ``os.fsencode`` restores it.
    """
    if "\\" not in name:
        return name
    pieces: list[str] = []
    position = 0
    while (backslash := name.find("\\", position)) >= 0:
        match = _ESCAPE.match(name, backslash)
        if match is None:
            raise ValueError(f"{name!r}: a backslash at {backslash} starts no escape")
        pieces.append(name[position:backslash])
        pieces.append(_raw(match))
        position = match.end()
    return "".join(pieces) + name[position:]


def _raw(match: re.Match[str]) -> str:
    backslash, byte, short, long = match.groups()
    if backslash:
        return "\\"
    if byte:
        if int(byte, 16) < 0x80:
            raise ValueError(f"\\x{byte} is an ASCII byte, which is never escaped as a byte")
        return chr(0xDC00 + int(byte, 16))
    return chr(int(short or long, 16))


def raw_prefix(prefix: str) -> str:
    """The raw text every name an escaped ``prefix`` selects starts with: what a store asks its server
    for. A prefix cut inside an escape (a pattern's part before its first wildcard) keeps only what
    comes before its first backslash."""
    try:
        return unescape_name(prefix)
    except ValueError:
        return prefix.split("\\", 1)[0]
