"""One database's restore drill in a synthetic run: the restore and integrity findings with the
evidence types their checks record, timings drawn from the snapshot's size (see ``bench/reports.py``)."""

from __future__ import annotations

import random
from datetime import timedelta

from bench.report_estate import EstateFacts, Moment
from drill.checks.integrity import IntegrityEvidence, QueryResult
from drill.checks.restore import RestoreEvidence
from drill.durations import format_duration
from drill.model import Finding, Status


def drill(facts: EstateFacts, moment: Moment, name: str, size: int, rng: random.Random) -> list[Finding]:
    j = int(name.rsplit("-", 1)[1])
    source = facts.estate.target_name(facts.estate.targets_of(j)[0])
    key = facts.snapshot_key(name, moment.started)
    created = moment.started - timedelta(minutes=37)
    failed = name in moment.restore_fails
    download = size / 180e6 * rng.uniform(0.9, 1.1)
    restore_s = size / 40e6 * rng.uniform(0.9, 1.1)
    verify_s = size / 400e6 * rng.uniform(0.9, 1.1)
    total = download + restore_s + verify_s + 0.4
    factor = (moment.size_factor or {}).get(name, 1.0)
    rows = {
        table: int(count * factor * (1 + moment.serial / 50_000))
        for table, count in facts.tables[name].items()
    }
    restore_evidence = RestoreEvidence(
        source_target=source,
        snapshot=key,
        snapshot_size=size,
        snapshot_created_at=created,
        snapshot_age_seconds=37 * 60,
        dump_format="custom",
        dump_version="1.15-0",
        download_seconds=round(download, 3),
        server_wait_seconds=0.0,
        restore_seconds=0.0 if failed else round(restore_s, 3),
        verify_seconds=0.0 if failed else round(verify_s, 3),
        total_seconds=round(download if failed else total, 3),
        rto_seconds=4 * 3600.0,
        failed_stage="restore" if failed else None,
        total_rows=None if failed else sum(rows.values()),
        tables=None if failed else len(rows),
        kept=None,
    )
    timing = f"download {download:.1f}s, restore {restore_s:.1f}s, verify {verify_s:.1f}s"
    if failed:
        restore = facts.finding(
            "restore",
            Status.FAIL,
            f"Restore drill failed at restore: pg_restore exited with 1: pg_restore: error: could not read "
            f"from input file: end of file (snapshot {key} from {source}).",
            restore_evidence,
            database=name,
        )
        integrity = facts.finding(
            "integrity",
            Status.SKIPPED,
            "Nothing was restored, so nothing could be verified; see the restore finding.",
            None,
            database=name,
        )
        return [restore, integrity]
    restore = facts.finding(
        "restore",
        Status.PASS,
        f"Restored {key} from {source} with zero errors within the RTO of 4h ({timing}).",
        restore_evidence,
        database=name,
    )
    queries = (
        QueryResult("orders_not_empty", "> 0", float(rows[next(iter(rows))]), None),
        QueryResult("no_orphan_lines", "== 0", 0.0, None),
        QueryResult("recent_payments", ">= 100", 4_812.0, None),
    )
    integrity_evidence = IntegrityEvidence(
        table_rows=rows,
        total_rows=sum(rows.values()),
        previous_drill=f"{moment.started - timedelta(hours=1):%Y%m%dT%H%M%SZ}-{moment.serial - 1:08x}",
        previous_total_rows=int(sum(rows.values()) * 0.9995),
        indexes_checked=3 * len(rows),
        queries=queries,
        sequences_checked=len(rows),
        recovery_point=created - timedelta(seconds=40),
        data_age_seconds=37 * 60 + 40,
        snapshot_age_seconds=37 * 60,
        problems=(),
    )
    integrity = facts.finding(
        "integrity",
        Status.PASS,
        f"Restored data is sound: {len(rows)} tables, {sum(rows.values())} rows, {3 * len(rows)} indexes, "
        f"{len(queries)} queries; data age {format_duration(timedelta(seconds=37 * 60 + 40))}.",
        integrity_evidence,
        database=name,
    )
    return [restore, integrity]
