"""``[baseline]``: where the approved baseline lives, resolved like every other path, and strict keys."""

from __future__ import annotations

from pathlib import Path

from drill.config import load_config
from tests.drill.config.snippets import database, fs_target, table, the_problem, write


def test_the_baseline_defaults_to_the_report_dir(tmp_path: Path) -> None:
    path = write(tmp_path, table("[report]", dir="out"), fs_target(), database())
    config = load_config(path, environ={}).config
    assert config.baseline_path == str(tmp_path.resolve() / "out" / "baseline.json")
    assert config.baseline.required is False


def test_a_relative_baseline_path_resolves_against_the_config_directory(tmp_path: Path) -> None:
    path = write(
        tmp_path, table("[baseline]", path="approved/baseline.json", required=True), fs_target(), database()
    )
    config = load_config(path, environ={}).config
    assert config.baseline_path == str(tmp_path.resolve() / "approved" / "baseline.json")
    assert config.baseline.required is True


def test_an_unknown_baseline_key_names_its_dotted_path(tmp_path: Path) -> None:
    path = write(tmp_path, table("[baseline]", file="b.json"), fs_target(), database())
    message = the_problem(path)
    assert "baseline.file" in message and str(path) in message
