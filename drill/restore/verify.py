"""Integrity verification of a restored database: amcheck, row counts, queries, sequences, data age.

The independent statements run on ``jobs`` connections at once (one per core is the useful
bound), because verification is part of the measured recovery time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from drill.config import Database
from drill.facts import IndexVerdict, QueryVerdict, SequenceVerdict, TableRows, Verification

T = TypeVar("T")

_TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2
"""

# Indexes with storage only: a partitioned table's index (relkind 'I') has none, and amcheck
# refuses it; its partitions' indexes are checked one by one.
_BTREE_INDEXES = """
SELECT c.oid::regclass::text, t.oid::regclass::text
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_am a ON a.oid = c.relam
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1
"""

# Sequences owned by a column (serial, or identity): they must not be behind the column's maximum.
# A descending sequence counts down past the column's minimum instead: not compared.
_OWNED_SEQUENCES = """
SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname
FROM pg_class s
JOIN pg_sequence q ON q.seqrelid = s.oid AND q.seqincrement > 0
JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2
"""


class _Connections:
    """One connection per worker thread, opened on first use, all closed at the end."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.opened: list[psycopg.Connection[Any]] = []

    def open(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self.conninfo, autocommit=True)
        self.opened.append(connection)
        return connection

    def close(self) -> None:
        for connection in self.opened:
            connection.close()


def _scalar(connection: psycopg.Connection[Any], query: sql.Composed | sql.SQL | str, *params: Any) -> Any:
    row = connection.execute(query, params or None).fetchone()
    return None if row is None else row[0]


def _in_parallel(
    conninfo: str, jobs: int, tasks: Sequence[Callable[[psycopg.Connection[Any]], T]]
) -> list[T]:
    connections = _Connections(conninfo)
    local = threading.local()

    def run(task: Callable[[psycopg.Connection[Any]], T]) -> T:
        if not hasattr(local, "connection"):
            local.connection = connections.open()
        return task(local.connection)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="drill-verify") as pool:
            return list(pool.map(run, tasks))
    finally:
        connections.close()


def _count(schema: str, table: str) -> Callable[[psycopg.Connection[Any]], TableRows]:
    def task(connection: psycopg.Connection[Any]) -> TableRows:
        rows = _scalar(
            connection,
            sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)),
        )
        return TableRows(f"{schema}.{table}", int(rows))

    return task


def _check_index(
    index: str, table: str, heapallindexed: bool
) -> Callable[[psycopg.Connection[Any]], IndexVerdict]:
    def task(connection: psycopg.Connection[Any]) -> IndexVerdict:
        try:
            connection.execute("SELECT bt_index_check(%s::regclass, %s)", (index, heapallindexed))
        except psycopg.Error as error:
            return IndexVerdict(index, table, _first_line(error))
        return IndexVerdict(index, table, None)

    return task


def _run_query(name: str, query: str, expect: str) -> Callable[[psycopg.Connection[Any]], QueryVerdict]:
    def task(connection: psycopg.Connection[Any]) -> QueryVerdict:
        try:
            value = _scalar(connection, query)
        except psycopg.Error as error:
            return QueryVerdict(name, expect, None, _first_line(error))
        try:
            return QueryVerdict(name, expect, None if value is None else float(value), None)
        except (TypeError, ValueError):
            return QueryVerdict(name, expect, None, f"the first column is {value!r}, not a number")

    return task


def _check_sequence(
    row: tuple[str, str, str, str, str],
) -> Callable[[psycopg.Connection[Any]], SequenceVerdict]:
    sequence_schema, sequence, table_schema, table, column = row

    def task(connection: psycopg.Connection[Any]) -> SequenceVerdict:
        state = connection.execute(
            sql.SQL("SELECT last_value, is_called FROM {}.{}").format(
                sql.Identifier(sequence_schema), sql.Identifier(sequence)
            )
        ).fetchone()
        last_value = int(state[0]) if state and state[1] else None
        try:
            maximum = _scalar(
                connection,
                sql.SQL("SELECT max({})::bigint FROM {}.{}").format(
                    sql.Identifier(column), sql.Identifier(table_schema), sql.Identifier(table)
                ),
            )
        except psycopg.Error:  # a column whose type does not cast to bigint: nothing to compare
            maximum = None
        return SequenceVerdict(
            f"{sequence_schema}.{sequence}", f"{table_schema}.{table}.{column}", last_value, maximum
        )

    return task


def _newest(column: str) -> Callable[[psycopg.Connection[Any]], tuple[datetime | None, str | None]]:
    *relation, name = column.split(".")

    def task(connection: psycopg.Connection[Any]) -> tuple[datetime | None, str | None]:
        try:
            value = _scalar(
                connection,
                sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(name), sql.Identifier(*relation)),
            )
        except psycopg.Error as error:
            return None, f"{column}: {_first_line(error)}"
        if value is None:
            return None, None
        if not isinstance(value, datetime):
            return None, f"{column} holds {type(value).__name__}, not a timestamp"
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), None

    return task


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def verify(conninfo: str, database: Database, *, jobs: int = 2, heapallindexed: bool = False) -> Verification:
    """Verify the restored database; problems found are data in the result, never exceptions."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        tables = connection.execute(_TABLES).fetchall()
        indexes = connection.execute(_BTREE_INDEXES).fetchall()
        sequences = connection.execute(_OWNED_SEQUENCES).fetchall()

    counts = [_count(schema, table) for schema, table in tables]
    index_checks = [_check_index(index, table, heapallindexed) for index, table in indexes]
    queries = [_run_query(query.name, query.sql, query.expect) for query in database.checks]
    sequence_checks = [_check_sequence(tuple(row)) for row in sequences]
    newest = [_newest(column) for column in database.recovery_point_columns]

    # Largest work first keeps both connections busy to the end.
    results: list[Any] = _in_parallel(
        conninfo, jobs, [*index_checks, *counts, *queries, *sequence_checks, *newest]
    )
    offset = 0
    parts: list[list[Any]] = []
    for size in (len(index_checks), len(counts), len(queries), len(sequence_checks), len(newest)):
        parts.append(results[offset : offset + size])
        offset += size
    index_verdicts, table_rows, query_verdicts, sequence_verdicts, newest_values = parts
    points = [point for point, _ in newest_values if point is not None]
    errors = [error for _, error in newest_values if error]
    return Verification(
        tables=tuple(table_rows),
        indexes=tuple(index_verdicts),
        queries=tuple(query_verdicts),
        sequences=tuple(sequence_verdicts),
        recovery_point=max(points) if points else None,
        recovery_point_error="; ".join(errors) or None,
    )
