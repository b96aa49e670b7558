"""Evidence as the report draws it: scalars, nested mappings, tables, and long lists cut."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from drill.model import UnparsedEvidence
from drill.reports.evidence_view import MAX_ENTRIES, EvidenceTable, evidence_items


class Colour(enum.StrEnum):
    RED = "red"


def raw(evidence: dict[str, object]) -> UnparsedEvidence:
    """Evidence drawn as recorded: the tree is the same for typed evidence's fields."""
    return UnparsedEvidence(evidence, "drawn raw")


def by_key(evidence: dict[str, object]) -> dict[str, object]:
    return {item.key: item for item in evidence_items(raw(evidence))}


def test_scalars_are_spelled_for_a_reader() -> None:
    items = by_key(
        {
            "none": None,
            "yes": True,
            "no": False,
            "whole": 3.0,
            "when": datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            "took": timedelta(seconds=90),
            "colour": Colour.RED,
        }
    )
    texts = {key: item.text for key, item in items.items()}  # type: ignore[attr-defined]
    assert texts == {
        "none": "-",
        "yes": "yes",
        "no": "no",
        "whole": "3",
        "when": "2026-11-30T03:00:00+00:00",
        "took": "90",
        "colour": "red",
    }


def test_a_mapping_nests_and_a_list_of_mappings_becomes_a_table() -> None:
    [nested, table, plain, empty] = evidence_items(
        raw(
            {
                "score": {"copies": 1, "media": {"s3": 1}},
                "copies": [{"target": "vault", "fresh": True}, {"target": "nas", "why": "stale"}],
                "tags": ["a", 1, None],
                "nothing": [],
            }
        )
    )
    assert [child.key for child in nested.children] == ["copies", "media"]
    assert nested.children[1].children[0].text == "1"
    assert table.table == EvidenceTable(
        ("target", "fresh", "why"), (("vault", "yes", "-"), ("nas", "-", "stale"))
    )
    assert plain.text == "a, 1, -" and plain.table is None
    assert empty.text == "none"


def test_long_lists_and_mappings_are_cut_saying_how_much_was_left_out() -> None:
    [rows, mapping, short] = evidence_items(
        raw(
            {
                "rows": [{"n": number} for number in range(MAX_ENTRIES + 5)],
                "tables": {f"t{number}": number for number in range(MAX_ENTRIES + 2)},
                "short": list(range(3)),
            }
        )
    )
    assert rows.table is not None and len(rows.table.rows) == MAX_ENTRIES and rows.omitted == 5
    assert len(mapping.children) == MAX_ENTRIES and mapping.omitted == 2
    assert short.omitted == 0
