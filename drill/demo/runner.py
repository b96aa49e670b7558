"""``run_demo``: build the estate, drill it with every phase, keep the report, remove everything else."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from botocore.utils import get_environ_proxies

from drill.config import load_config
from drill.demo.config_file import write_config
from drill.demo.errors import DemoError
from drill.demo.estate import (
    AGENT,
    LOCKED_BUCKET,
    MAIN_ACCOUNT,
    PLAIN_BUCKET,
    PLANTED_FAILURES,
    RETENTION_DAYS,
    VAULT_ACCOUNT,
    VAULT_BUCKET,
    build_estate,
)
from drill.demo.local_aws import iam_enforced, local_aws
from drill.demo.samples import postgres_binaries, sample_dumps, server_user
from drill.engine import execute
from drill.model import DrillRun, Phase, Status
from drill.reports.directory import publish

SANDBOX_PREFIX = "drill-demo-"


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
    refuse_what_would_break_the_sandbox()
    with ExitStack() as stack:
        sandbox = stack.enter_context(_sandbox(keep_sandbox, echo))
        binaries = postgres_binaries()
        run_as = server_user()
        echo(f"Building the sample databases with PostgreSQL {binaries.version} from {binaries.bin_dir}.")
        dumps = sample_dumps(binaries, sandbox, run_as)
        for dump in dumps:
            echo(f"  {dump.database}: {dump.rows:,} rows, dumped to {dump.key} ({_size(dump.path)}).")
        endpoint = stack.enter_context(local_aws())
        echo(f"Started a local S3, IAM and STS endpoint (moto) on {endpoint}.")
        environ = build_estate(endpoint, dumps, sandbox)
        echo(
            f"  account {MAIN_ACCOUNT}: {LOCKED_BUCKET} (Object Lock, COMPLIANCE {RETENTION_DAYS} days) "
            f"and {PLAIN_BUCKET} (no versioning); account {VAULT_ACCOUNT}: {VAULT_BUCKET} (Object Lock, "
            f"COMPLIANCE {RETENTION_DAYS} days); a filesystem copy in {sandbox / 'nas'}."
        )
        echo(
            f"  IAM users: drill-reader and drill-vault-reader (read-only, what drill runs as) and "
            f"the agent {AGENT} (s3:* on {PLAIN_BUCKET}). IAM enforcement is on."
        )
        stack.enter_context(iam_enforced(endpoint))
        config = write_config(sandbox, out, endpoint, binaries, run_as)
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


def refuse_what_would_break_the_sandbox() -> None:
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


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024:.0f} kB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MB"
