import sys
import time
from pathlib import Path

import pytest

from drill.storage.pgbackrest import command
from drill.storage.pgbackrest.command import PgBackRest, PgBackRestFailed, bounded_run, passed_on


def test_only_pgbackrests_variables_are_passed_on() -> None:
    environ = {"PGBACKREST_REPO1_CIPHER_PASS": "x", "AWS_SECRET_ACCESS_KEY": "y", "HOME": "/root"}
    assert passed_on(environ) == {"PGBACKREST_REPO1_CIPHER_PASS": "x"}


def test_a_failing_command_names_its_status_and_never_a_secret(tmp_path: Path) -> None:
    fake = tmp_path / "pgbackrest"
    fake.write_text("#!/bin/sh\necho 'ERROR: [031]: cipher pass the-passphrase-1234 is wrong' >&2\nexit 31\n")
    fake.chmod(0o755)
    runner = PgBackRest(program=fake, stanza="main", config=None, secrets=("the-passphrase-1234",))
    with pytest.raises(PgBackRestFailed) as failed:
        runner.run("info", timeout=30)
    assert "status 31" in str(failed.value) and "the-passphrase-1234" not in str(failed.value)
    assert command.REDACTED in str(failed.value)


def test_a_command_past_its_bound_is_stopped() -> None:
    status, _, reason = bounded_run((sys.executable, "-c", "import time; time.sleep(30)"), {}, timeout=0.5)
    assert status is None and "longer than" in reason


def test_a_command_its_watch_objects_to_is_stopped_with_the_watchs_reason() -> None:
    asked = []

    def watch() -> str | None:
        asked.append(time.monotonic())
        return "the restored files passed their budget" if len(asked) >= 2 else None

    began = time.monotonic()
    status, _, reason = bounded_run(
        (sys.executable, "-c", "import time; time.sleep(30)"), {}, timeout=60, watch=watch, watch_every=0.2
    )

    assert status is None and reason == "the restored files passed their budget"
    assert len(asked) == 2 and time.monotonic() - began < 10


def test_a_command_its_watch_accepts_runs_to_its_end() -> None:
    status, output, _ = bounded_run(
        (sys.executable, "-c", "import time; time.sleep(0.5); print('done')"),
        {},
        timeout=30,
        watch=lambda: None,
        watch_every=0.1,
    )
    assert status == 0 and output.strip() == "done"


def test_output_past_its_bound_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command, "MAX_OUTPUT_BYTES", 1000)
    status, _, reason = bounded_run((sys.executable, "-c", "print('x' * 100000)"), {}, timeout=30)
    assert status is None and "more than 1000 bytes" in reason
