"""The run as JUnit XML, so GitLab, Jenkins, GitHub test reporters and Azure show drill results natively.

One ``<testsuite>`` per check (``drill.<check>``), one ``<testcase>`` per finding, named by its subject.
The shape follows Jenkins' junit-10.xsd (xunit-plugin), which the tests validate against.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import UTC, datetime
from xml.etree import ElementTree

from drill import evidence
from drill.checks.restore import RestoreEvidence
from drill.model import DrillRun, Finding, Status

# XML 1.0 allows only tab, newline, CR and these ranges; anything else (NUL, ESC, a lone surrogate left by
# surrogateescape decoding) makes the whole file unparseable, and a message can quote a hostile bucket
# name or a dump error verbatim. https://www.w3.org/TR/xml/#charsets
_NOT_XML_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Ant's JUnit schema types the timestamp as xs:dateTime restricted to this pattern: no fraction, no offset.
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _xml_safe(text: str) -> str:
    return _NOT_XML_CHARACTER.sub("", text)


def _seconds(value: float) -> str:
    # A fixed-point decimal, never "1e-05": Surefire's time pattern has no exponent. A clock stepped back
    # mid-run must not yield a negative duration either.
    return f"{max(value, 0.0):.3f}"


def _timestamp(moment: datetime) -> str:
    # A naive datetime is taken as UTC already: the engine records UTC, and guessing a local zone would shift it.
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.strftime(_TIMESTAMP_FORMAT)


def _case_seconds(finding: Finding) -> float:
    """The restore drill's measured total; other checks only read facts collected before them."""
    if finding.check != "restore" or not isinstance(finding.evidence, RestoreEvidence):
        return 0.0
    total = finding.evidence.total_seconds
    # NaN or infinity (JSON reads both) would print as text no CI can parse as a duration.
    if not math.isfinite(total):
        return 0.0
    return max(total, 0.0)


def _details(finding: Finding) -> str:
    lines = [finding.message, f"Severity: {finding.severity.value}"]
    if finding.remediation:
        lines.append(f"Remediation: {finding.remediation}")
    if finding.evidence is not None:
        recorded = json.dumps(
            evidence.field_values(finding.evidence), indent=2, sort_keys=True, ensure_ascii=False
        )
        lines.append(f"Evidence:\n{recorded}")
    return "\n".join(lines)


def _unique_names(findings: list[Finding]) -> list[str]:
    """Each finding's subject, with " #2", " #3" on repeats: CI reporters merge test cases that share a name."""
    taken: set[str] = set()
    names: list[str] = []
    for finding in findings:
        # Cleaned first, so two subjects that differ only in stripped characters still get distinct names.
        subject = _xml_safe(finding.subject)
        name, occurrence = subject, 1
        while name in taken:
            occurrence += 1
            name = f"{subject} #{occurrence}"
        taken.add(name)
        names.append(name)
    return names


def _testcase(suite: ElementTree.Element, finding: Finding, name: str) -> float:
    seconds = _case_seconds(finding)
    case = ElementTree.SubElement(
        suite, "testcase", {"name": name, "classname": suite.get("name", ""), "time": _seconds(seconds)}
    )
    if finding.status.is_failing:
        # The issue asks for "fail and error as failures": an error means drill could not verify, which
        # fails closed exactly like a fail, and many reporters hide <error> or count it apart from failures.
        failure = ElementTree.SubElement(
            case,
            "failure",
            {"message": finding.message, "type": f"{finding.status.value}/{finding.severity.value}"},
        )
        failure.text = _details(finding)
    elif finding.status is Status.SKIPPED:
        ElementTree.SubElement(case, "skipped", {"message": finding.message})
    else:
        # A warning stays a passing test, so it cannot fail the build, but its output keeps it visible.
        output = ElementTree.SubElement(case, "system-out")
        output.text = f"{finding.status.value.upper()}: {_details(finding)}"
    return seconds


def _testsuite(parent: ElementTree.Element, check: str, findings: list[Finding], timestamp: str) -> None:
    failures = sum(finding.status.is_failing for finding in findings)
    skipped = sum(finding.status is Status.SKIPPED for finding in findings)
    # No hostname: reports read only the run, and the run does not record the machine it ran on.
    suite = ElementTree.SubElement(
        parent,
        "testsuite",
        {
            "name": f"drill.{check}",
            "tests": str(len(findings)),
            "failures": str(failures),
            "errors": "0",  # errors are reported as failures; see _testcase
            "skipped": str(skipped),
            "timestamp": timestamp,
        },
    )
    seconds = sum(
        _testcase(suite, finding, name)
        for finding, name in zip(findings, _unique_names(findings), strict=True)
    )
    suite.set("time", _seconds(seconds))


def _interrupted(root: ElementTree.Element, message: str, timestamp: str) -> None:
    """A run stopped by a signal fails a test of its own, so that CI does not read its passes as a pass."""
    attributes = {"tests": "1", "failures": "1", "errors": "0", "skipped": "0", "time": _seconds(0)}
    suite = ElementTree.SubElement(
        root, "testsuite", {"name": "drill.run", **attributes, "timestamp": timestamp}
    )
    case = ElementTree.SubElement(
        suite, "testcase", {"name": "interrupted", "classname": "drill.run", "time": _seconds(0)}
    )
    failure = ElementTree.SubElement(case, "failure", {"message": message, "type": "error/high"})
    failure.text = message
    for key in ("tests", "failures"):
        root.set(key, str(int(root.get(key, "0")) + 1))


def _scrub(root: ElementTree.Element) -> None:
    """Strip what XML 1.0 cannot hold from every text and attribute, in one place, so no field is missed."""
    for element in root.iter():
        if element.text:
            element.text = _xml_safe(element.text)
        if element.tail:
            element.tail = _xml_safe(element.tail)
        for key, value in element.attrib.items():
            element.set(key, _xml_safe(value))


def render_junit(run: DrillRun) -> str:
    by_check: defaultdict[str, list[Finding]] = defaultdict(list)
    for finding in run.findings:
        by_check[finding.check].append(finding)
    # No skipped count on the root: junit-10.xsd does not declare one there, and Jenkins' xunit plugin
    # skips a result file that does not validate against it. Each suite carries its own.
    root = ElementTree.Element(
        "testsuites",
        {
            "name": "drill",
            "tests": str(len(run.findings)),
            "failures": str(sum(finding.status.is_failing for finding in run.findings)),
            "errors": "0",
            "time": _seconds(run.duration_seconds),
        },
    )
    timestamp = _timestamp(run.started_at)
    for check in sorted(by_check):
        _testsuite(root, check, by_check[check], timestamp)
    if run.interrupted is not None:
        _interrupted(root, run.interrupted.describe(), timestamp)
    _scrub(root)
    ElementTree.indent(root)
    # Encoded, then decoded: with encoding="unicode" the declaration names the locale's encoding, not UTF-8.
    document: bytes = ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return document.decode("UTF-8") + "\n"
