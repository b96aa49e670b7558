"""A finding's evidence as a tree the templates can draw: scalars, nested mappings, and tables.

Evidence is first reduced to the JSON values its run record holds (``drill.evidence``), so that a
report drawn from a run and one drawn from its run.json look the same; evidence kept raw because
it maps to no type is drawn from its raw mapping. Very long lists and mappings are cut, saying
how much was left out: the run's JSON has all of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from drill import evidence
from drill.model import Evidence, UnparsedEvidence

# Beyond this many entries a list or mapping is cut: a report must stay readable (and printable)
# for a database of thousands of tables; run.json keeps everything.
MAX_ENTRIES = 100


@dataclass(frozen=True)
class EvidenceTable:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class EvidenceItem:
    """One key of the evidence: exactly one of ``text``, ``children`` or ``table`` carries its value."""

    key: str
    text: str | None = None
    children: tuple[EvidenceItem, ...] = ()
    table: EvidenceTable | None = None
    omitted: int = 0  # entries cut beyond MAX_ENTRIES


def scalar_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _is_table(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(value, dict) for value in values)


def _table(values: list[dict[str, Any]]) -> EvidenceTable:
    columns: list[str] = []
    for row in values:
        columns.extend(key for key in row if key not in columns)
    return EvidenceTable(
        tuple(columns),
        tuple(tuple(scalar_text(row.get(column)) for column in columns) for row in values),
    )


def item(key: str, value: Any) -> EvidenceItem:
    if isinstance(value, dict):
        entries = list(value.items())
        return EvidenceItem(
            key,
            text="-" if not entries else None,
            children=tuple(item(str(k), v) for k, v in entries[:MAX_ENTRIES]),
            omitted=max(0, len(entries) - MAX_ENTRIES),
        )
    if isinstance(value, list):
        shown = value[:MAX_ENTRIES]
        omitted = max(0, len(value) - MAX_ENTRIES)
        if _is_table(shown):
            return EvidenceItem(key, table=_table(shown), omitted=omitted)
        text = ", ".join(scalar_text(entry) for entry in shown) if shown else "none"
        return EvidenceItem(key, text=text, omitted=omitted)
    return EvidenceItem(key, text=scalar_text(value))


def evidence_note(recorded: Evidence | None) -> str | None:
    """Why evidence is drawn as it was recorded rather than read into its type, if it is."""
    if isinstance(recorded, UnparsedEvidence):
        return f"{recorded.problem}; shown as recorded."
    return None


def evidence_items(recorded: Evidence | None) -> tuple[EvidenceItem, ...]:
    values = evidence.field_values(recorded)
    return tuple(item(key, value) for key, value in values.items())
