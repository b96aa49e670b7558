"""The history's summary, updated with each line, so that nothing re-reads ``history.jsonl`` per run.

``<report dir>/history-summary.json`` (``drill.history-summary/v1``) holds what the history's
readers need, each bounded whatever the history's length:

- for the index page: the newest ``TAIL_RUNS`` runs in brief (its table and pass/fail strip), and
  per database its drill tallies and newest ``TAIL_DRILLS`` drills (its charts);
- for the lookups of ``drill.history``: each database's last passing drill (the "0" of 3-2-1-1-0
  and the metrics), its last drill that restored rows (the next drill compares row counts with
  it), and the last run of each command and set of databases (a recovery is judged against it).

It names the history it covers by the file's inode and size after the last line it took in. A
history changed behind its back (a line appended by an older drill, an edit, a prune killed
between its two writes) no longer matches, so readers fall back to reading the history and the
next run rebuilds the summary from it: it is a cache, and deleting it costs one full read.

Pruning (``drill.reports.pruning``) keeps every run a lookup here points at, so a summary rebuilt
from a pruned history answers every lookup as before; a prune saves the summary of exactly the
lines it kept.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from drill.facts import PreviousDrill
from drill.model import Status

SUMMARY_FILE = "history-summary.json"
SCHEMA = "drill.history-summary/v1"
TAIL_RUNS = 500  # the index lists this many runs
TAIL_DRILLS = 200  # and charts this many drills per database
FAILING_KEPT = 5  # failing findings named per run in the index; the rest are counted
_RUN_KEYS = ("run_id", "command", "status", "started_at", "finished_at", "duration_seconds", "counts")
_CHART_KEYS = ("total_seconds", "rto_seconds", "snapshot_size", "total_rows")

Stamp = tuple[int, int]  # the history file's inode and size
RunKey = tuple[str, tuple[str, ...]]  # command and sorted databases


def moment(value: Any) -> datetime | None:
    """A time written by a history line; naive ones are UTC; anything else is None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def drills_in(
    entry: Mapping[str, Any], databases: Iterable[str] | None = None
) -> Iterator[tuple[str, PreviousDrill]]:
    """The drills one history line records, each database's on its own: a foreign one is skipped."""
    recorded = entry.get("drills")
    if not isinstance(recorded, dict) or "finished_at" not in entry:
        return
    for database in recorded if databases is None else databases:
        drill = recorded.get(database)
        if not isinstance(drill, dict):
            continue
        try:
            parsed = PreviousDrill(
                run_id=str(entry.get("run_id")),
                finished_at=datetime.fromisoformat(str(entry["finished_at"])),
                passed=bool(drill.get("passed")),
                table_rows={str(k): int(v) for k, v in (drill.get("table_rows") or {}).items()},
            )
        except (ValueError, TypeError, AttributeError):
            # A hand-edited or foreign line is skipped: it must not cost the run its drill.
            continue
        yield str(database), parsed


def run_key(command: Any, databases: Any) -> RunKey:
    names = databases if isinstance(databases, list) else []
    return (str(command), tuple(sorted(str(name) for name in names)))


@dataclass
class DrillTally:
    """One database's drills as the index counts and charts them."""

    drills: int = 0
    passed: int = 0
    last_passed: str | None = None
    tail: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=TAIL_DRILLS))


class HistorySummary:
    """Feed history lines oldest first with ``add``; ``to_json`` and ``from_json`` keep it on disk."""

    def __init__(self) -> None:
        self.stamp: Stamp | None = None
        self.runs = 0  # runs taken in since the summary was built: the index's total
        self.tail: deque[dict[str, Any]] = deque(maxlen=TAIL_RUNS)
        self.tallies: dict[str, DrillTally] = {}
        self.last_passing: dict[str, PreviousDrill] = {}
        self.last_rows: dict[str, PreviousDrill] = {}
        self.previous: dict[RunKey, dict[str, Any]] = {}

    @classmethod
    def of(cls, entries: Iterable[Mapping[str, Any]]) -> HistorySummary:
        summary = cls()
        for entry in entries:
            summary.add(entry)
        return summary

    def add(self, entry: Mapping[str, Any]) -> None:
        if "command" in entry:
            key = run_key(entry.get("command"), entry.get("databases"))
            self.previous[key] = {name: entry[name] for name in (*_RUN_KEYS, "databases") if name in entry}
        for database, drill in drills_in(entry):
            if drill.passed and _later(drill, self.last_passing.get(database)):
                self.last_passing[database] = drill
            if drill.table_rows:
                self.last_rows[database] = drill
        self._add_to_index(entry)

    def _add_to_index(self, entry: Mapping[str, Any]) -> None:
        """As the index reads a line: a run needs an id, a start and a verdict, or it is not one."""
        run_id, started = entry.get("run_id"), moment(entry.get("started_at"))
        if not isinstance(run_id, str) or started is None or str(entry.get("status")) not in _STATUSES:
            return
        self.runs += 1
        brief = {name: entry[name] for name in _RUN_KEYS if name in entry}
        if entry.get("interrupted"):
            brief["interrupted"] = entry["interrupted"]
        failing = entry.get("failing") if isinstance(entry.get("failing"), list) else []
        brief["failing"] = (failing or [])[:FAILING_KEPT]
        brief["failing_count"] = len(failing or [])
        self.tail.append(brief)
        drills = entry.get("drills")
        at = moment(entry.get("finished_at")) or started
        for name, drill in (drills if isinstance(drills, dict) else {}).items():
            if not isinstance(drill, dict):
                continue
            tally = self.tallies.setdefault(str(name), DrillTally())
            passed = bool(drill.get("passed"))
            tally.drills += 1
            if passed:
                tally.passed += 1
                if tally.last_passed is None or at > (moment(tally.last_passed) or at):
                    tally.last_passed = at.isoformat()
            tally.tail.append(
                {"at": at.isoformat(), "run_id": run_id, "passed": passed}
                | {key: drill.get(key) for key in _CHART_KEYS}
            )

    # --- on disk ----------------------------------------------------------------------------------

    def to_json(self) -> str:
        document = {
            "schema": SCHEMA,
            "history": list(self.stamp) if self.stamp else None,
            "runs": self.runs,
            "tail": list(self.tail),
            "databases": {
                name: {
                    "drills": tally.drills,
                    "passed": tally.passed,
                    "last_passed": tally.last_passed,
                    "tail": list(tally.tail),
                }
                for name, tally in self.tallies.items()
            },
            "last_passing": {name: _drill_json(drill) for name, drill in self.last_passing.items()},
            "last_rows": {name: _drill_json(drill) for name, drill in self.last_rows.items()},
            "previous": [
                {"command": command, "databases": list(databases), "line": line}
                for (command, databases), line in self.previous.items()
            ],
        }
        return json.dumps(document, separators=(",", ":"), default=str) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> HistorySummary | None:
        """The summary a file holds, or None when it is not one this drill wrote (then it is rebuilt)."""
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or document.get("schema") != SCHEMA:
                return None
            summary = cls()
            stamp = document["history"]
            summary.stamp = (int(stamp[0]), int(stamp[1])) if stamp else None
            summary.runs = int(document["runs"])
            summary.tail.extend(dict(brief) for brief in document["tail"])
            for name, tally in document["databases"].items():
                kept = DrillTally(int(tally["drills"]), int(tally["passed"]), tally["last_passed"])
                kept.tail.extend(dict(drill) for drill in tally["tail"])
                summary.tallies[str(name)] = kept
            summary.last_passing = {str(k): _drill(v) for k, v in document["last_passing"].items()}
            summary.last_rows = {str(k): _drill(v) for k, v in document["last_rows"].items()}
            for item in document["previous"]:
                summary.previous[run_key(item["command"], item["databases"])] = dict(item["line"])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        return summary


_STATUSES = frozenset(status.value for status in Status)


def _later(drill: PreviousDrill, than: PreviousDrill | None) -> bool:
    if than is None:
        return True
    try:
        return drill.finished_at > than.finished_at
    except TypeError:  # a hand-written time without a zone beside drill's own: not comparable, not later
        return False


def _drill_json(drill: PreviousDrill) -> dict[str, Any]:
    return {
        "run_id": drill.run_id,
        "finished_at": drill.finished_at.isoformat(),
        "passed": drill.passed,
        "table_rows": dict(drill.table_rows),
    }


def _drill(document: Mapping[str, Any]) -> PreviousDrill:
    return PreviousDrill(
        run_id=str(document["run_id"]),
        finished_at=datetime.fromisoformat(str(document["finished_at"])),
        passed=bool(document["passed"]),
        table_rows={str(k): int(v) for k, v in dict(document["table_rows"]).items()},
    )
