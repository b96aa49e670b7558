"""The escaped form of a name: printable, unambiguous, and turned back into the raw name exactly."""

from __future__ import annotations

import os

import pytest

from drill.names import escape_name, raw_prefix, unescape_name

# ESC [31m repaints a terminal, a carriage return rewrites a log line, U+202E reverses what follows,
# U+FFFF is no XML character.
HOSTILE = "orders/o\x1b[31m\r\u202e\x85\uffff\\.dump"
ESCAPED = "orders/o\\u001b[31m\\u000d\\u202e\\u0085\\uffff\\\\.dump"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("orders/orders-2026-12-01.dump", "orders/orders-2026-12-01.dump"),
        ("orders/café.dump", "orders/café.dump"),  # printable text stays as it is
        (HOSTILE, ESCAPED),
        (os.fsdecode(b"orders/\xff\xfe.dump"), "orders/\\xff\\xfe.dump"),  # bytes that are not UTF-8
        ("orders/\U000e0001tag.dump", "orders/\\U000e0001tag.dump"),  # a format character above the BMP
    ],
)
def test_names_are_escaped_to_printable_text_and_back(raw: str, escaped: str) -> None:
    assert escape_name(raw) == escaped
    assert escaped.isprintable()
    assert unescape_name(escaped) == raw


def test_a_prefix_cut_inside_an_escape_keeps_what_comes_before_it() -> None:
    assert raw_prefix("orders/o\\u001b") == "orders/o\x1b"
    assert raw_prefix("orders/o\\u00") == "orders/o"


@pytest.mark.parametrize("text", ["orders/a\\q.dump", "orders/a\\x41.dump", "orders/trailing\\"])
def test_text_no_escape_produced_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"backslash|ASCII"):
        unescape_name(text)
