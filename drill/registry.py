"""The ``@check`` decorator and the discovery of checks.

A check is one function in one module of the ``checks`` package, named by its id. The decorator
only attaches metadata to the function (no global registry is mutated); ``discover()`` imports
the package's modules and collects the decorated functions, refusing a module whose check id
does not match its file name so that ids, files and docs cannot drift apart.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from drill.model import CheckInfo, Control, CouldNotVerify, Evidence, Phase, Scope, Severity, Status

_ATTRIBUTE = "__drill_check__"

F = TypeVar("F", bound=Callable[..., Iterable["Outcome"]])


@dataclass(frozen=True)
class Outcome:
    """What a check decided about one subject. The engine adds the check id, subject and remediation."""

    status: Status
    message: str
    evidence: Evidence | None = None  # one of the types the check declares, or None
    severity: Severity | None = None  # overrides the check's default, e.g. critical for the only copy

    @classmethod
    def passed(cls, message: str, evidence: Evidence | None = None) -> Outcome:
        return cls(Status.PASS, message, evidence)

    @classmethod
    def warned(cls, message: str, evidence: Evidence | None = None) -> Outcome:
        return cls(Status.WARN, message, evidence)

    @classmethod
    def failed(cls, message: str, evidence: Evidence | None = None) -> Outcome:
        return cls(Status.FAIL, message, evidence)

    @classmethod
    def errored(cls, message: str, evidence: Evidence | None = None) -> Outcome:
        return cls(Status.ERROR, message, evidence)

    @classmethod
    def skipped(cls, message: str, evidence: Evidence | None = None) -> Outcome:
        return cls(Status.SKIPPED, message, evidence)


# Evidence any check may record: a fact it needed could not be read.
COMMON_EVIDENCE: tuple[type[Evidence], ...] = (CouldNotVerify,)


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    severity: Severity
    scope: Scope
    phase: Phase
    remediation: str
    function: Callable[[Any], Iterable[Outcome]]
    controls: tuple[Control, ...] = ()
    evidence: tuple[type[Evidence], ...] = ()  # the shapes its outcomes record, beside COMMON_EVIDENCE

    def verify_evidence(self, outcomes: Iterable[Outcome]) -> None:
        """Refuse an outcome whose evidence the check does not declare: no report or record could read it."""
        allowed = (*self.evidence, *COMMON_EVIDENCE)
        for outcome in outcomes:
            if outcome.evidence is not None and type(outcome.evidence) not in allowed:
                raise RegistryError(
                    f"Check {self.id!r} recorded evidence of type {type(outcome.evidence).__name__}, "
                    "which it does not declare in @check(evidence=...)."
                )

    def info(self) -> CheckInfo:
        return CheckInfo(
            self.id,
            self.title,
            self.scope,
            self.phase,
            self.severity,
            tuple(control.value for control in self.controls),
        )


class RegistryError(Exception):
    pass


def check(
    id: str,
    *,
    severity: Severity,
    scope: Scope,
    remediation: str,
    controls: tuple[Control, ...] = (),
    phase: Phase = Phase.POSTURE,
    evidence: tuple[type[Evidence], ...] = (),
) -> Callable[[F], F]:
    """Mark a function as the check ``id``; its docstring's first line is its title.

    ``controls`` are the audit controls its findings evidence, shown in reports and evidence packs;
    every shipped check names at least one (a test holds them to it). ``evidence`` lists the
    evidence types its outcomes record: the run record reads them back by these types.
    """

    def mark(function: F) -> F:
        title = (function.__doc__ or id).strip().splitlines()[0].rstrip(".")
        spec = CheckSpec(id, title, severity, scope, phase, remediation, function, controls, evidence)
        setattr(function, _ATTRIBUTE, spec)
        return function

    return mark


def discover(package: str = "drill.checks") -> tuple[CheckSpec, ...]:
    """Import every module of ``package`` and return its checks, sorted by id."""
    root = importlib.import_module(package)
    specs: list[CheckSpec] = []
    for module_info in pkgutil.iter_modules(root.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{module_info.name}")
        specs.extend(_specs_in(module, module_info.name))
    return tuple(sorted(specs, key=lambda spec: spec.id))


def _specs_in(module: ModuleType, module_name: str) -> list[CheckSpec]:
    found = [
        getattr(value, _ATTRIBUTE)
        for value in vars(module).values()
        if callable(value) and isinstance(getattr(value, _ATTRIBUTE, None), CheckSpec)
    ]
    for spec in found:
        if spec.id != module_name:
            raise RegistryError(
                f"Check {spec.id!r} lives in module {module_name!r}; a check's module is named by its id."
            )
    if len(found) > 1:
        raise RegistryError(
            f"Module {module_name!r} defines {len(found)} checks; one module holds one check."
        )
    return found
