"""HTML pages from the templates under ``reports/templates``: a run's report, the index, a pack's summary.

Autoescaping is on for every template and an undefined variable is an error, so a hostile bucket,
key or query name can only ever appear as text, and a template typo fails loudly in the tests
instead of rendering an empty cell. No markup is assembled in Python.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from drill.model import DrillRun
from drill.reports.formatting import human_count, human_seconds, human_time
from drill.reports.index_view import IndexView
from drill.reports.pack_baseline import BaselineSection
from drill.reports.period_summary import PeriodSummary
from drill.reports.run_view import report_view


@cache
def environment() -> jinja2.Environment:
    """Built on first use, not at import: importing reports must stay free."""
    env = jinja2.Environment(
        # Beside this module rather than PackageLoader("reports"): a directory named "reports" in the
        # working directory (a report dir, often) would otherwise shadow the package's templates.
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(seconds_of=human_seconds, count_of=human_count, time_of=human_time)
    return env


def _render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render_report(run: DrillRun) -> str:
    return _render("report.html", view=report_view(run))


def render_index(view: IndexView) -> str:
    return _render("index.html", view=view)


def render_pack_summary(
    summary: PeriodSummary, *, folder: str, baseline: BaselineSection | None = None
) -> str:
    return _render("pack.html", summary=summary, folder=folder, baseline=baseline)
