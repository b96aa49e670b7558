import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.model import Phase
from drill.registry import RegistryError, discover

TESTS = Path(__file__).resolve().parents[1]

CHECK_MODULE = """
from drill.model import Scope, Severity
from drill.registry import Outcome, check

@check({check_id!r}, severity=Severity.LOW, scope=Scope.TARGET, remediation="Do it.")
def judged(facts):
    \"\"\"A check for tests.\"\"\"
    yield Outcome.passed("fine")
"""


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "fakechecks"
    root.mkdir()
    (root / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    for name in [module for module in sys.modules if module.startswith("fakechecks")]:
        del sys.modules[name]


def test_a_new_module_is_discovered_without_registering_it_anywhere(package: Path) -> None:
    (package / "lonely.py").write_text(textwrap.dedent(CHECK_MODULE.format(check_id="lonely")))
    [spec] = discover("fakechecks")
    assert spec.id == "lonely"
    assert spec.title == "A check for tests"
    assert spec.phase is Phase.POSTURE


def test_a_check_whose_id_differs_from_its_module_is_refused(package: Path) -> None:
    (package / "lonely.py").write_text(textwrap.dedent(CHECK_MODULE.format(check_id="other")))
    with pytest.raises(RegistryError, match="module is named by its id"):
        discover("fakechecks")


def test_every_shipped_check_is_well_formed_and_has_its_own_test() -> None:
    specs = discover()
    assert specs, "no checks discovered"
    for spec in specs:
        assert spec.remediation.endswith("."), spec.id
        assert spec.title and spec.title != spec.id, spec.id
        assert (TESTS / "checks" / f"test_{spec.id}.py").is_file(), f"checks/{spec.id}.py has no test"
        assert spec.controls, f"checks/{spec.id}.py names no audit control it evidences"
