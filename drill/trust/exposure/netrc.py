"""``.netrc`` files by content: ``machine``/``default`` entries that carry a ``password``.

A file is taken as a netrc only when its words, from the first, follow the netrc grammar
(``machine NAME``, ``default``, ``login``/``password``/``account VALUE``, ``macdef NAME`` and its
body up to a blank line); prose that happens to say "machine" and "password" does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from drill.facts import SightingKind
from drill.trust.exposure.known import mask_secret
from drill.trust.exposure.shape import Shape, placeholder

_WORD = re.compile(rb"\S+")
_FIRST_WORD = re.compile(rb"\s*(?:machine|default)\s")
_WITH_VALUE = frozenset({b"machine", b"login", b"password", b"account"})
_NETRC_NAMES = frozenset({".netrc", "_netrc", "netrc"})
_MAX_WORDS = 100_000  # a netrc is far smaller; this bounds the words taken from any one file


def netrc_shapes(name: str, data: bytes) -> Iterator[Shape]:
    if name not in _NETRC_NAMES and _FIRST_WORD.match(data) is None:
        return
    words = [(match.start(), match.group()) for match in islice(_WORD.finditer(data), _MAX_WORDS)]
    found: list[Shape] = []
    machine, login = "default", ""
    index = 0
    while index < len(words):
        offset, word = words[index]
        if word == b"default":
            machine, login, index = "default", "", index + 1
            continue
        if word == b"macdef":
            index = _after_macro(words, index, data)
            continue
        if word not in _WITH_VALUE or index + 1 >= len(words):
            return  # not netrc grammar: not a netrc, whatever it says further on
        value = words[index + 1][1]
        text = value.decode("utf-8", "replace")[:64]
        if word == b"machine":
            machine, login = text, ""
        elif word == b"login":
            login = text
        elif word == b"password" and not placeholder(value):
            who = f"{login}@{machine}" if login else machine
            what = f"password of {who} (netrc)"
            found.append(Shape(offset, SightingKind.CREDENTIAL_FILE, what, mask_secret(len(value))))
        index += 2
    yield from found


def _after_macro(words: list[tuple[int, bytes]], index: int, data: bytes) -> int:
    """The index of the first word after a macro's name and body (which ends at a blank line)."""
    if index + 1 >= len(words):
        return len(words)
    end = data.find(b"\n\n", words[index + 1][0])
    if end == -1:
        return len(words)
    return next((number for number in range(index + 2, len(words)) if words[number][0] > end), len(words))
