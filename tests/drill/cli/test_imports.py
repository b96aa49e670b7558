"""`drill --help` starts at once: importing the CLI loads no SDK, no database driver, no template
engine and none of the modules only a command needs. Checked in a fresh interpreter, by name,
because a timing test would pass or fail with the machine's load."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Each costs tens to hundreds of milliseconds to import; only the commands that use them may.
HEAVY = (
    "boto3",
    "botocore",
    "google.cloud",
    "psycopg",
    "jinja2",
    "moto",
    "pydantic",
    "apscheduler",
    "importlib.metadata",
    "drill.demo",
    "drill.engine",
    "drill.config",
    "drill.reports",
    "drill.checks",
    "drill.restore",
    "drill.storage",
    "drill.trust",
)


def modules_after(statement: str) -> set[str]:
    """The names in sys.modules after ``statement`` runs in a new interpreter."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(result.stdout))


def loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(module.startswith(f"{name}.") for module in modules)


@pytest.fixture(scope="module")
def at_start() -> set[str]:
    """What the interpreter loads before any of drill (site hooks of other packages included)."""
    return modules_after("pass")


@pytest.fixture(scope="module")
def cli_modules(at_start: set[str]) -> set[str]:
    return modules_after("import drill.cli") - at_start


@pytest.mark.parametrize("name", HEAVY)
def test_importing_the_cli_loads_no_heavy_module(cli_modules: set[str], name: str) -> None:
    assert "drill.cli.app" in cli_modules  # the check looks at a real import
    assert not loaded(cli_modules, name)


def test_importing_drill_itself_loads_nothing_of_its_own(at_start: set[str]) -> None:
    modules = modules_after("import drill") - at_start
    assert "drill" in modules
    assert not loaded(modules, "importlib.metadata")
    assert not [module for module in modules if module.startswith("drill.")]


def test_the_version_command_still_reads_the_installed_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "drill", "version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and result.stdout.strip() != "0+unknown"
