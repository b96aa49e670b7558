"""The wheel installs drill as one package: checks/ and reports/ become drill.checks and drill.reports.

A wheel is built from the checkout and installed, without its dependencies, into a fresh virtual
environment; the dependencies come from the test environment's site-packages through a .pth file, so
the test needs no network and still runs the installed console script. Every command runs from an
empty directory, so the checkout's own folders are not on the import path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of what the Dockerfile sends, links kept as links, so the build writes nothing
    # into the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("drill", "checks", "reports"):
        shutil.copytree(
            ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        (
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ),
        check=True,
        cwd=out,
    )
    (built,) = out.glob("drill-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; returns its bin directory."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    subprocess.run(
        (str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)),
        check=True,
        cwd=home,
    )
    site = subprocess.run(
        (str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"),
        check=True,
        capture_output=True,
        text=True,
        cwd=home,
    ).stdout.strip()
    # The test environment's packages (boto3, typer...) without its editable drill: a directory named
    # in a .pth is put on the path, but the .pth files inside it (the editable finder's) are not run.
    (Path(site) / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home / "bin"


def run(binary: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        (str(binary), *args), check=False, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_the_wheel_holds_only_the_drill_package_with_its_templates(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top_level == {"drill"}
    assert "drill/checks/freshness.py" in names
    assert "drill/reports/html.py" in names
    assert any(name.startswith("drill/reports/templates/") for name in names)


def test_an_installed_drill_has_no_top_level_checks_or_reports(installed: Path, tmp_path: Path) -> None:
    for name in ("checks", "reports"):
        result = run(installed / "python", "-c", f"import {name}", cwd=tmp_path)
        assert result.returncode != 0
        assert f"No module named '{name}'" in result.stderr


def test_the_installed_console_script_starts_and_finds_every_check(installed: Path, tmp_path: Path) -> None:
    help_text = run(installed / "drill", "--help", cwd=tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert "validate" in help_text.stdout
    listed = run(installed / "drill", "list-checks", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for check in ("copies_3_2_1", "freshness", "restore", "trust_separation"):
        assert check in listed.stdout
    located = run(installed / "python", "-c", "import drill.checks as c; print(c.__file__)", cwd=tmp_path)
    assert located.stdout.strip().startswith(str(installed.parent)), located.stdout
