"""``drill baseline approve|show|diff``: record the approved configuration, print it, and print
today's drift from it by reading storage only (no restore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drill.cli.common import ConfigOption, console, error, load
from drill.exits import Exit, interrupted_by

baseline = typer.Typer(
    help=(
        "The approved configuration: approve it once (a change review, an audit), then every "
        "drill check and drill run reports drift from it."
    ),
    no_args_is_help=True,
)
ConcurrencyOption = Annotated[
    int,
    typer.Option("--concurrency", min=1, max=256, help="How many storage reads run at once."),
]


@baseline.command()
def approve(
    config: ConfigOption,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who approves (default: the OS user running drill).", show_default=False),
    ] = None,
    concurrency: ConcurrencyOption = 8,
) -> None:
    """Record today's configuration as the approved baseline: per target its lock, retention,
    lifecycle rules, policy and ACL digests and who may delete; per database its targets and checks."""
    from drill.baseline import codec
    from drill.engine import approve_baseline
    from drill.files import write_atomic
    from drill.stopping import SWITCH, armed

    loaded = load(config)
    with armed():
        approved = approve_baseline(loaded, by=by or _os_user(), concurrency=concurrency)
    if SWITCH.stopped is not None:
        error(f"drill: interrupted by {SWITCH.stopped.signal_name}: nothing was approved.")
        raise typer.Exit(interrupted_by(SWITCH.stopped.signal_number))
    path = Path(loaded.config.baseline_path)
    text = codec.render(approved)
    write_atomic(path, text)
    kinds = (("target", approved.targets), ("database", approved.databases), ("agent", approved.agents))
    counts = ", ".join(f"{len(records)} {noun}{'' if len(records) == 1 else 's'}" for noun, records in kinds)
    print(f"Approved by {approved.approval.by}: {path} ({counts}).")
    print(f"Baseline SHA-256: {codec.file_sha256(text.encode())}")
    for line in approved.unread():
        error(f"not monitored (could not be read): {line}")


@baseline.command()
def show(config: ConfigOption) -> None:
    """Print the approved baseline; exit 3 when its file was changed since it was approved."""
    from drill.baseline.text import describe
    from drill.collect.baseline import load_baseline
    from drill.facts import ApprovedBaseline, MissingBaseline

    state = load_baseline(load(config).config)
    if isinstance(state, MissingBaseline):
        print(f"No approved baseline at {state.path}: record one with drill baseline approve.")
        return
    if not isinstance(state, ApprovedBaseline):
        error(f"drill: the baseline at {state.path} cannot be used: {state.problem}.")
        raise typer.Exit(Exit.FINDINGS)
    print(f"Baseline: {state.path} (SHA-256 {state.sha256})")
    for line in describe(state.baseline):
        print(line)


@baseline.command()
def diff(config: ConfigOption, concurrency: ConcurrencyOption = 8) -> None:
    """Print today's drift from the approved baseline by reading storage only (no restore, nothing
    recorded). Exit 3 when protection weakened or could not be verified, 0 otherwise."""
    from drill.engine import execute
    from drill.model import Phase
    from drill.reports.console import print_run
    from drill.stopping import SWITCH, armed

    loaded = load(config)
    with armed():
        run = execute(
            loaded,
            command="baseline diff",
            phases=frozenset({Phase.POSTURE}),
            concurrency=concurrency,
            only=frozenset({"drift"}),
        )
    print_run(run, console())
    if SWITCH.stopped is not None:
        raise typer.Exit(interrupted_by(SWITCH.stopped.signal_number))
    raise typer.Exit(Exit.FINDINGS if run.status.is_failing else Exit.OK)


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a container's arbitrary uid)
        return "unknown"
