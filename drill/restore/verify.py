"""Integrity verification of a restored database: amcheck, row counts, queries, sequences, data age.

It runs as the restore role (drill.restore.access), never as a superuser, in a database whose
functions, operators and views the snapshot chose. So every session pins ``search_path`` to
``pg_catalog, pg_temp`` (a client option, which outranks the database's own settings) and names
every relation with its schema: no name resolves to something the dump defined, and drill's own
queries (the catalogue reads, row counts of ordinary tables, sequences against integer columns,
the newest timestamp) call no function of the dump's. amcheck does, where an index's expressions
or operator class are the dump's: that is what checking such an index means, and it runs in the
restore role under a statement timeout. The configured integrity queries are the operator's SQL:
they run in the restore role too, with ``public`` after ``pg_catalog`` on their search_path.

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
from drill.restore.access import pinned

T = TypeVar("T")

_TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
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
# A descending sequence counts down past the column's minimum instead: not compared. Only integer
# columns: max() over a type of the dump's would call its comparison function.
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
    AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2
"""

# amcheck's function, found by its membership of the extension: a function of the same name the
# dump made is never called.
_AMCHECK = """
SELECT n.nspname FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'amcheck'
WHERE p.proname = 'bt_index_check' AND p.pronargs = 2
"""
# What a recovery point column must be: a column of an ordinary or partitioned table (a view could
# call anything), of a timestamp type. No row for a relation that is not there; no type for a column
# that is not.
_TIME_COLUMN = """
SELECT c.relkind, format_type(a.atttypid, NULL) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %s AND c.relname = %s
"""
_TIME_TYPES = frozenset({"timestamp with time zone", "timestamp without time zone"})
_QUERY_PATH = "SET LOCAL search_path = pg_catalog, public, pg_temp"


class _Connections:
    """One connection per worker thread, opened on first use, all closed at the end."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo  # already pinned
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
    amcheck: str | None, index: str, table: str, heapallindexed: bool
) -> Callable[[psycopg.Connection[Any]], IndexVerdict]:
    def task(connection: psycopg.Connection[Any]) -> IndexVerdict:
        if amcheck is None:
            return IndexVerdict(index, table, "amcheck is not installed in the restored database")
        check = sql.SQL("SELECT {}.bt_index_check(%s::regclass, %s)").format(sql.Identifier(amcheck))
        try:
            connection.execute(check, (index, heapallindexed))
        except psycopg.Error as error:
            return IndexVerdict(index, table, _first_line(error))
        return IndexVerdict(index, table, None)

    return task


def _run_query(name: str, query: str, expect: str) -> Callable[[psycopg.Connection[Any]], QueryVerdict]:
    def task(connection: psycopg.Connection[Any]) -> QueryVerdict:
        try:
            with connection.transaction():
                connection.execute(_QUERY_PATH)
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
    schema, table = relation if len(relation) == 2 else ("public", relation[-1])

    def task(connection: psycopg.Connection[Any]) -> tuple[datetime | None, str | None]:
        found = connection.execute(_TIME_COLUMN, (name, schema, table)).fetchone()
        if found is None:
            return None, f'{column}: relation "{schema}.{table}" does not exist'
        if found[0] not in ("r", "p"):
            return None, f"{column}: {schema}.{table} is not a table, and drill reads only tables"
        if found[1] is None:
            return None, f'{column}: column "{name}" does not exist'
        if found[1] not in _TIME_TYPES:
            return None, f"{column} holds {found[1]}, not a timestamp"
        try:
            value = _scalar(
                connection,
                sql.SQL("SELECT max({}) FROM {}.{}").format(
                    sql.Identifier(name), sql.Identifier(schema), sql.Identifier(table)
                ),
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


def verify(
    conninfo: str,
    database: Database,
    *,
    jobs: int = 2,
    heapallindexed: bool = False,
    statement_timeout: float | None = None,
) -> Verification:
    """Verify the restored database as the role ``conninfo`` logs in as (the restore role).

    Problems found are data in the result, never exceptions. ``statement_timeout`` (seconds)
    bounds each statement: amcheck may call the dump's functions, which may never return.
    """
    conninfo = pinned(conninfo, statement_timeout)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        amcheck = _scalar(connection, _AMCHECK)
        tables = connection.execute(_TABLES).fetchall()
        indexes = connection.execute(_BTREE_INDEXES).fetchall()
        sequences = connection.execute(_OWNED_SEQUENCES).fetchall()

    counts = [_count(schema, table) for schema, table in tables]
    index_checks = [_check_index(amcheck, index, table, heapallindexed) for index, table in indexes]
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
