"""Rendering the pages: escaped, self-contained, strict about undefined values, and a pure
function of the run record (the page from run.json equals the page from the run in memory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import jinja2
import pytest

from drill.model import (
    CheckInfo,
    ConfigIdentity,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Finding,
    Phase,
    Scope,
    Severity,
    Status,
)
from drill.reports.html import environment, render_index, render_report
from drill.reports.index_view import index_of
from drill.reports.json_report import parse_json, render_json
from tests.reports.runs import recorded

HOSTILE = '<script>alert("x")</script>'
STARTED = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def hostile_run(*, findings: tuple[Finding, ...] | None = None) -> DrillRun:
    evidence: dict[str, Any] = {
        HOSTILE: HOSTILE,
        "copies": [{"target": "vault", "why": HOSTILE, "immutable": None, "snapshot": HOSTILE}],
        "score": {"copies": 0},
        "required": {"copies": 1},
        "written": STARTED,
        "nested": {"deeper": [HOSTILE, 1, True]},
    }
    return DrillRun(
        run_id="20261130T030000Z-0000abcd",
        command="run",
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=5),
        config=ConfigIdentity(f"/etc/{HOSTILE}.toml", "ab" * 32),
        drill_version="0.1.0",
        findings=findings
        if findings is not None
        else (
            Finding(
                "copies_3_2_1",
                Status.FAIL,
                Severity.CRITICAL,
                HOSTILE,
                database="orders",
                evidence=recorded("copies_3_2_1", evidence),
                remediation=HOSTILE,
            ),
            Finding(
                "integrity",
                Status.FAIL,
                Severity.HIGH,
                "bad",
                database="orders",
                evidence=recorded(
                    "integrity",
                    {"queries": [{"name": HOSTILE, "expect": "> 0", "value": None, "error": HOSTILE}]},
                ),
            ),
            Finding(
                "restore",
                Status.PASS,
                Severity.CRITICAL,
                "restored",
                database="orders",
                evidence=recorded("restore", {"snapshot": HOSTILE}),
            ),
            Finding(
                "trust_separation", Status.WARN, Severity.HIGH, HOSTILE, agent="deployer", target="vault"
            ),
        ),
        checks=(CheckInfo("restore", HOSTILE, Scope.RESTORE, Phase.RESTORE, Severity.CRITICAL, (HOSTILE,)),),
        coverage=Coverage((CoveredDatabase("orders", HOSTILE, ("vault",)),), ("vault",), ("deployer",)),
    )


class Audit(HTMLParser):
    """Every tag, every attribute that can fetch or navigate, and the inline style text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.references: list[tuple[str, str, str]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data", "poster", "xlink:href") or name.startswith(
                "on"
            ):
                self.references.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def audit(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    return parser


def assert_self_contained(html: str) -> None:
    found = audit(html)
    assert not set(found.tags) & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    for tag, name, value in found.references:
        assert name == "href" and value.startswith(("#", "runs/")), (tag, name, value)
    assert "url(" not in found.style and "@import" not in found.style


def test_a_hostile_name_is_escaped_everywhere_it_appears() -> None:
    html = render_report(hostile_run())
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 8
    assert_self_contained(html)


def test_the_audit_notices_a_fetching_or_scripted_page() -> None:
    # The checks above must be able to fail: each of these pages breaks one of them.
    for page in (
        '<img src="http://cdn.example/x.png">',
        '<link rel="stylesheet" href="https://fonts.example/x.css">',
        '<a href="https://example.com">x</a>',
        "<style>body { background: url(http://example.com/x.png) }</style>",
        '<div onclick="alert(1)">x</div>',
    ):
        with pytest.raises(AssertionError):
            assert_self_contained(page)


def test_the_report_forbids_every_fetch_with_a_content_security_policy() -> None:
    html = render_report(hostile_run())
    assert "default-src 'none'" in html and "style-src 'unsafe-inline'" in html


def test_the_page_from_the_json_record_equals_the_page_from_the_run() -> None:
    run = hostile_run()
    assert render_report(parse_json(render_json(run))) == render_report(run)


def test_a_run_with_no_findings_is_an_error_that_says_nothing_was_verified() -> None:
    html = render_report(hostile_run(findings=()))
    assert 'id="verdict">ERROR<' in html
    assert "nothing was verified" in html


def test_the_environment_escapes_and_refuses_undefined_values() -> None:
    env = environment()
    assert env.from_string("{{ value }}").render(value="<b>") == "&lt;b&gt;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ value.missing }}").render(value=object())


def test_the_index_of_an_empty_history_says_so() -> None:
    html = render_index(index_of([], generated_at=STARTED, has_report=lambda run_id: False))
    assert 'id="verdict">NO RUNS<' in html and "0 runs recorded" in html
    assert_self_contained(html)
