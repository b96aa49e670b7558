"""Nothing of a physical drill survives it: not on success (the other tests assert it), not after
SIGTERM while pgBackRest restores or while the recovered server runs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.drill.restore.conftest import REPO, processes_mentioning, wait_until
from tests.pgbackrest_estate import DATABASE, Stanza

# A drill-like process: the CLI turns SIGTERM into SystemExit; it drills and says when it is done.
_DRILLER = textwrap.dedent(
    """
    import json, os, signal, sys
    from drill.config import Database, RestoreSettings, Target, TargetType
    from drill.restore.physical.drill import drill_stanza
    from drill.storage.pgbackrest.stanza import read_stanza

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    name, config, work_dir, database = json.loads(sys.argv[1])
    target = Target(name=name, type=TargetType.PGBACKREST, stanza=name, config=config, site="dc1")
    [copy] = read_stanza(target, os.environ, timeout=60)
    outcome = drill_stanza(Database(name=database, site="dc1", targets=(name,)), name, copy.repo,
                           RestoreSettings(work_dir=work_dir), os.environ)
    print("finished", outcome.failure, flush=True)
    """
)


def _stage_reached(work_dir: Path, stage: str) -> bool:
    roots = list(work_dir.glob("drill-scratch-*"))
    if stage == "restore":
        return any((root / "data").exists() for root in roots)
    return any((root / "data" / "postmaster.pid").exists() for root in roots)


@pytest.mark.parametrize("stage", ["restore", "recovery"])
def test_sigterm_leaves_no_process_and_no_file(pgbackrest_stanza: Stanza, work_dir: Path, stage: str) -> None:
    arguments = json.dumps([pgbackrest_stanza.name, str(pgbackrest_stanza.config), str(work_dir), DATABASE])
    driller = subprocess.Popen(
        (sys.executable, "-c", _DRILLER, arguments),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert wait_until(lambda: _stage_reached(work_dir, stage) or driller.poll() is not None, timeout=60)
        driller.send_signal(signal.SIGTERM)
        status = driller.wait(timeout=60)
        output, errors = driller.communicate()
    finally:
        if driller.poll() is None:
            driller.kill()
    assert status == 143, f"the drill was not interrupted at {stage} ({status}): {output}{errors}"
    deadline = time.monotonic() + 5
    while processes_mentioning(str(work_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_mentioning(str(work_dir)) == []
    assert list(work_dir.iterdir()) == []
