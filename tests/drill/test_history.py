"""The run history: history.jsonl is appended to, never rewritten, survives a run killed mid-write, and its drills are looked up per database."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drill import history
from drill.facts import PreviousDrill
from drill.model import DrillRun, Status
from drill.reports import history_line
from tests.drill.history_runs import DAY_1, finding, integrity, record, restore, run

# Appending and reading.


def test_entries_come_back_in_the_order_they_were_appended(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "nested"  # created on the first append
    first = {"run_id": "r1", "at": datetime(2026, 11, 1, tzinfo=UTC), "counts": {"pass": 3}}
    second = {"run_id": "r2", "note": 'ünïcode and "quotes"\nand a newline'}

    history.append(report_dir, first)
    history.append(report_dir, second)

    assert list(history.entries(report_dir)) == [
        {"run_id": "r1", "at": "2026-11-01 00:00:00+00:00", "counts": {"pass": 3}},
        second,
    ]
    lines = (report_dir / history.HISTORY_FILE).read_bytes().split(b"\n")
    assert len(lines) == 3 and lines[-1] == b""  # one line per entry, each ended


def test_no_history_means_no_entries_and_no_drills(tmp_path: Path) -> None:
    assert list(history.entries(tmp_path)) == []
    assert list(history.drills_of(tmp_path, "orders")) == []
    assert history.previous_drill(tmp_path, "orders") is None
    assert history.last_passing_drill(tmp_path, "orders") is None
    assert not (tmp_path / history.HISTORY_FILE).exists()  # reading creates nothing


def test_a_torn_last_line_spoils_neither_earlier_entries_nor_the_next_append(tmp_path: Path) -> None:
    record(tmp_path, run("r1", 1, restore(), integrity({"public.orders": 100})))
    record(tmp_path, run("r2", 2, restore(), integrity({"public.orders": 110})))
    path = tmp_path / history.HISTORY_FILE
    intact = path.read_bytes()
    # A run killed in the middle of its write: part of a line, no newline.
    torn = json.dumps(history_line.summary(run("r3", 3, restore(), integrity({"public.orders": 1}))))
    with path.open("ab") as handle:
        handle.write(torn[: len(torn) // 2].encode())

    assert [entry["run_id"] for entry in history.entries(tmp_path)] == ["r1", "r2"]
    assert history.previous_drill(tmp_path, "orders").table_rows == {"public.orders": 110}  # type: ignore[union-attr]

    record(tmp_path, run("r4", 4, restore(), integrity({"public.orders": 120})))

    assert [entry["run_id"] for entry in history.entries(tmp_path)] == ["r1", "r2", "r4"]
    content = path.read_bytes()
    assert content.startswith(intact)  # earlier lines are never rewritten
    assert content.count(b"\n") == 4  # r1, r2, the torn fragment closed by r4's leading newline, r4
    assert history.previous_drill(tmp_path, "orders").run_id == "r4"  # type: ignore[union-attr]


def test_a_line_torn_inside_a_multibyte_character_is_skipped(tmp_path: Path) -> None:
    history.append(tmp_path, {"run_id": "r1"})
    with (tmp_path / history.HISTORY_FILE).open("ab") as handle:
        handle.write('{"run_id": "r2", "note": "é'.encode()[:-1])  # half of the é

    history.append(tmp_path, {"run_id": "r3"})

    assert [entry["run_id"] for entry in history.entries(tmp_path)] == ["r1", "r3"]


def test_foreign_lines_are_skipped(tmp_path: Path) -> None:
    history.append(tmp_path, {"run_id": "r1"})
    with (tmp_path / history.HISTORY_FILE).open("a", encoding="utf-8") as handle:
        handle.write('[1, 2]\n"a string"\n\nnot json at all\n42\n')
    history.append(tmp_path, {"run_id": "r2"})

    assert list(history.entries(tmp_path)) == [{"run_id": "r1"}, {"run_id": "r2"}]


def test_concurrent_appends_each_land_as_one_intact_line(tmp_path: Path) -> None:
    def appender(worker: int) -> None:
        for number in range(50):
            history.append(tmp_path, {"worker": worker, "number": number, "pad": "x" * 500})

    threads = [threading.Thread(target=appender, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    found = list(history.entries(tmp_path))
    assert len(found) == 400
    assert {(entry["worker"], entry["number"]) for entry in found} == {
        (worker, number) for worker in range(8) for number in range(50)
    }
    # No line holds two entries or part of one. (A writer that reads the last byte while another's
    # write is still landing may start on a fresh line it did not need: a blank line, skipped.)
    lines = [line for line in (tmp_path / history.HISTORY_FILE).read_bytes().split(b"\n") if line.strip()]
    assert len(lines) == 400
    assert all(isinstance(json.loads(line), dict) for line in lines)


# Looking drills up.


def test_drills_are_picked_per_database(tmp_path: Path) -> None:
    record(
        tmp_path,
        # Day 1: orders drilled cleanly; billing failed to restore, so nothing was counted.
        run(
            "r1",
            1,
            restore(),
            integrity({"public.orders": 100, "public.lines": 400}),
            restore(Status.FAIL, "billing"),
            finding("integrity", Status.SKIPPED, "billing"),
        ),
        # Day 2: orders restored but lost rows; billing clean.
        run(
            "r2",
            2,
            restore(),
            integrity({"public.orders": 10, "public.lines": 40}, Status.FAIL),
            restore(database="billing"),
            integrity({"public.invoices": 7}, database="billing"),
        ),
        # Day 3: posture checks only, nobody drilled.
        run("r3", 3, finding("freshness", Status.PASS), command="check"),
        # Day 4: the orders dump did not restore at all.
        run("r4", 4, restore(Status.FAIL), finding("integrity", Status.SKIPPED, "orders")),
    )
    finished = {f"r{day}": DAY_1 + timedelta(days=day - 1, minutes=5, seconds=1.2345) for day in range(1, 5)}

    assert list(history.drills_of(tmp_path, "orders")) == [
        PreviousDrill("r1", finished["r1"], True, {"public.orders": 100, "public.lines": 400}),
        PreviousDrill("r2", finished["r2"], False, {"public.orders": 10, "public.lines": 40}),
        PreviousDrill("r4", finished["r4"], False, {}),
    ]
    assert [drill.run_id for drill in history.drills_of(tmp_path, "billing")] == ["r1", "r2"]

    # The baseline for row counts is the last drill that counted rows, not one that restored nothing.
    previous = history.previous_drill(tmp_path, "orders")
    assert previous is not None and previous.run_id == "r2"
    assert previous.finished_at == finished["r2"] and previous.finished_at.tzinfo is not None
    assert history.previous_drill(tmp_path, "billing") == PreviousDrill(
        "r2", finished["r2"], True, {"public.invoices": 7}
    )

    assert history.last_passing_drill(tmp_path, "orders") == finished["r1"]
    assert history.last_passing_drill(tmp_path, "billing") == finished["r2"]
    assert history.last_passing_drill(tmp_path, "payroll") is None
    assert history.previous_drill(tmp_path, "payroll") is None


def test_last_passing_drill_is_the_latest_by_time_not_by_line(tmp_path: Path) -> None:
    # Two shards of CronJobs may finish out of order: the later drill can be written first.
    record(
        tmp_path,
        run("late", 5, restore(), integrity({"public.orders": 1})),
        run("early", 2, restore(), integrity({"public.orders": 1})),
    )

    assert history.last_passing_drill(tmp_path, "orders") == DAY_1 + timedelta(
        days=4, minutes=5, seconds=1.2345
    )


def test_an_entry_without_a_finish_time_is_not_a_drill(tmp_path: Path) -> None:
    history.append(
        tmp_path, {"run_id": "odd", "drills": {"orders": {"passed": True, "table_rows": {"t": 1}}}}
    )

    assert list(history.drills_of(tmp_path, "orders")) == []
    assert history.last_passing_drill(tmp_path, "orders") is None


def test_a_malformed_drill_entry_is_skipped_not_fatal(tmp_path: Path) -> None:
    history.append(
        tmp_path, {"run_id": "bad", "finished_at": "not a date", "drills": {"orders": {"passed": True}}}
    )
    history.append(
        tmp_path,
        {
            "run_id": "odd",
            "finished_at": "2026-11-01T00:00:00+00:00",
            "drills": {"orders": {"table_rows": ["x"]}},
        },
    )
    history.append(
        tmp_path,
        {
            "run_id": "good",
            "finished_at": "2026-11-02T00:00:00+00:00",
            "drills": {"orders": {"passed": True, "table_rows": {"t": 1}}},
        },
    )
    assert [drill.run_id for drill in history.drills_of(tmp_path, "orders")] == ["good"]
    assert history.last_passing_drill(tmp_path, "orders") == datetime(2026, 11, 2, tzinfo=UTC)


def test_each_databases_last_passing_drill_is_found_in_one_pass(tmp_path: Path) -> None:
    record(
        tmp_path,
        run(
            "r1",
            1,
            restore(),
            integrity({"orders": 10}),
            restore(database="billing"),
            integrity({"b": 1}, database="billing"),
        ),
        run(
            "r2",
            2,
            restore(Status.FAIL),
            restore(database="billing"),
            integrity({"b": 1}, database="billing"),
        ),
        run("r3", 3, restore(Status.FAIL, database="billing")),
    )
    last = history.last_passing_drills(tmp_path)
    assert last == {
        "orders": DAY_1 + timedelta(minutes=5, seconds=1.2345),  # r1: r2's drill failed
        "billing": DAY_1 + timedelta(days=1, minutes=5, seconds=1.2345),  # r2: r3's drill failed
    }
    assert history.last_passing_drills(tmp_path / "empty") == {}


def test_the_previous_run_is_the_last_of_the_same_command_over_the_same_databases(tmp_path: Path) -> None:
    from drill.model import Coverage, CoveredDatabase  # noqa: PLC0415

    def covering(each: DrillRun, *names: str) -> DrillRun:
        return replace(
            each, coverage=Coverage(tuple(CoveredDatabase(name, "prod", ("vault",)) for name in names))
        )

    record(
        tmp_path,
        covering(run("r1", 1, restore()), "orders"),
        covering(run("r2", 2, restore(), command="check"), "orders"),
        covering(run("r3", 3, restore()), "orders", "billing"),
    )

    def previous(*databases: str) -> str | None:
        found = history.previous_run(tmp_path, "run", databases)
        return None if found is None else str(found["run_id"])

    assert previous("orders") == "r1"  # r2 was a check, r3 covered billing too
    assert previous("billing", "orders") == "r3"
    assert previous("ledger") is None


def test_lines_the_released_drill_wrote_still_load(tmp_path: Path) -> None:
    released = Path(__file__).resolve().parents[1] / "reports" / "fixtures" / "history-0.1.0.jsonl"
    (tmp_path / history.HISTORY_FILE).write_bytes(released.read_bytes())
    finished = datetime(2026, 12, 5, 19, 51, 23, 669065, tzinfo=UTC)
    assert history.last_passing_drills(tmp_path) == {"shop": finished, "billing": finished}
    previous = history.previous_drill(tmp_path, "shop")
    assert previous is not None and previous.run_id == "20261205T195120Z-194f5f5e"
    assert previous.table_rows["public.orders"] == 3000
