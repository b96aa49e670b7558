from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drill.model import Control, Phase, Scope, Severity
from drill.registry import CheckSpec, discover
from drill.reports.checks_reference import (
    COMMAND,
    Details,
    DetailsError,
    main,
    page,
    parse_details,
    render,
)

REPO = Path(__file__).resolve().parents[2]


def _nothing(facts: object) -> Iterator[Any]:
    yield from ()


def _spec(check_id: str, *, controls: tuple[Control, ...] = (), title: str = "Title") -> CheckSpec:
    return CheckSpec(
        id=check_id,
        title=title,
        severity=Severity.HIGH,
        scope=Scope.TARGET,
        phase=Phase.POSTURE,
        remediation=f"Fix {check_id}.",
        function=_nothing,
        controls=controls,
    )


def test_docs_checks_page_is_generated_from_the_shipped_checks() -> None:
    details = (REPO / "docs/checks-details.md").read_text(encoding="utf-8")
    current = (REPO / "docs/checks.md").read_text(encoding="utf-8")
    assert current == page(details), (
        f"docs/checks.md is stale; regenerate it, from the repository's top, with: {COMMAND}"
    )


def test_every_shipped_check_has_hand_written_details() -> None:
    specs = discover()
    details = parse_details(
        (REPO / "docs/checks-details.md").read_text(encoding="utf-8"), [spec.id for spec in specs]
    )
    assert sorted(details.sections) == sorted(spec.id for spec in specs), (
        "every check explains itself in a `## <check id>` section of docs/checks-details.md"
    )


def test_each_check_gets_its_metadata_and_its_own_details() -> None:
    specs = (
        _spec("alpha", controls=(Control.SOC2_A1_2,), title="Alpha holds"),
        _spec("beta", title="Beta holds"),
    )
    text = render(specs, Details("Read me first.", {"alpha": "Alpha's prose.", "beta": "Beta's prose."}))
    alpha = text[text.index("## alpha") : text.index("## beta")]
    assert "**Alpha holds.**" in alpha
    assert (
        "| posture | target | high | SOC 2 A1.2 (Data backup processes and recovery infrastructure) |"
        in alpha
    )
    assert "**Remediation.** Fix alpha." in alpha
    assert "Alpha's prose." in alpha
    assert "Beta's prose." not in alpha
    assert "| [`beta`](#beta) | posture | target | high | Beta holds |" in text
    assert "Read me first." in text
    assert "| SOC 2 A1.2 Data backup processes and recovery infrastructure | `alpha` |" in text
    assert "SOC 2 CC6.1" not in text  # a control no check evidences gets no row


def test_a_pipe_in_a_title_does_not_break_the_table() -> None:
    text = render((_spec("alpha", title="Either a | or b"),), Details("", {}))
    assert "| Either a \\| or b |" in text


def test_details_split_at_check_headings_and_drop_the_note_to_editors() -> None:
    details = parse_details(
        "<!-- regenerate after editing -->\nIntroduction.\n\n## alpha\nFirst.\n\n### More\nSecond.\n",
        ["alpha", "beta"],
    )
    assert details == Details("Introduction.", {"alpha": "First.\n\n### More\nSecond."})


def test_details_for_a_check_that_does_not_exist_are_refused() -> None:
    with pytest.raises(DetailsError, match="'gamma' names no check; known checks: alpha, beta"):
        parse_details("## gamma\nProse.\n", ["alpha", "beta"])


def test_two_sections_for_one_check_are_refused() -> None:
    with pytest.raises(DetailsError, match="'alpha' has two sections"):
        parse_details("## alpha\nOne.\n## alpha\nTwo.\n", ["alpha"])


def test_main_prints_the_page_and_names_an_unreadable_details_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    details = tmp_path / "details.md"
    details.write_text("Introduction.\n", encoding="utf-8")
    assert main([str(details)]) == 0
    assert capsys.readouterr().out == page("Introduction.\n")
    assert main([str(tmp_path / "missing.md")]) == 2
    assert "missing.md: cannot read the hand-written details" in capsys.readouterr().err
