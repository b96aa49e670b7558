"""Reports read evidence through its types' attributes, never by key: a renamed field must be a
type error, not an empty cell in an auditor's report."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
# Every module that reads findings' evidence to show or summarise it.
READERS = [*sorted((PROJECT / "reports").glob("*.py")), PROJECT / "drill" / "history.py"]
# The JSON form of evidence, for display only: drawn whole, never picked from by key.
JSON_FORMS = {"to_json", "field_values"}


def _names_evidence(node: ast.expr) -> bool:
    """Whether an expression is evidence: ``x.evidence``, a name with "evidence" in it, or its JSON form."""
    if isinstance(node, ast.Attribute):
        return node.attr == "evidence" or "evidence" in node.attr
    if isinstance(node, ast.Name):
        return "evidence" in node.id
    if isinstance(node, ast.Call):
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        return name in JSON_FORMS
    return False


def keyed_reads(source: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Subscript) and _names_evidence(node.value)) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "items", "keys", "values", "pop", "setdefault")
            and _names_evidence(node.func.value)
        ):
            yield node.lineno, ast.unparse(node)


@pytest.mark.parametrize("module", READERS, ids=lambda path: str(path.relative_to(PROJECT)))
def test_no_report_reads_evidence_by_key(module: Path) -> None:
    found = list(keyed_reads(module.read_text(encoding="utf-8")))
    assert found == [], f"{module.name} reads evidence by key: {found}; read the evidence type's attributes"


@pytest.mark.parametrize(
    "line",
    [
        'finding.evidence["score"]',
        'finding.evidence.get("total_seconds")',
        'evidence.get("score")',
        'restore_evidence["snapshot"]',
        'evidence.field_values(finding.evidence)["score"]',
    ],
)
def test_the_rule_catches_each_way_of_reading_by_key(line: str) -> None:
    assert list(keyed_reads(line)), line


def test_the_rule_lets_attributes_and_whole_evidence_through() -> None:
    assert not list(keyed_reads("restored.total_seconds; card.evidence.score.copies; evidence_items(x)"))
