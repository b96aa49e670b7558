"""Prometheus metrics of a finished run: a textfile for node_exporter, and a push to a Pushgateway.

Every sample carries a ``command`` label (``check`` or ``run``), so the textfile and the
Pushgateway expose the same series and one set of alerting rules serves both:

=====================================  ====================  =========================================
metric                                 labels                value
=====================================  ====================  =========================================
drill_last_run_timestamp_seconds       command               when the run finished (Unix time)
drill_run_duration_seconds             command               how long it took
drill_run_failed                       command               1 if the verdict is fail or error, else 0
drill_findings                         command, status       findings per status, every status
drill_failing_findings                 command, check        fail+error findings per check that ran
drill_last_success_timestamp_seconds   command, database     the last passing restore drill
drill_restore_passed                   command, database     1 if this run's drill passed, else 0
drill_restore_total_seconds            command, database     the measured recovery time, if it restored
drill_rto_seconds                      command, database     the database's RTO
drill_snapshot_age_seconds             command, database     the restored snapshot's age
=====================================  ====================  =========================================

The verdict is one 0/1 gauge, ``drill_run_failed``, rather than a one-hot ``status`` label, so
that the alert is ``drill_run_failed == 1`` and resolves by itself when the next run passes; which
kind of failure it was is ``drill_findings{status="error"}`` and ``drill_failing_findings``. A
drill that stopped running is ``time() - drill_last_run_timestamp_seconds > <interval>``.

``drill_failing_findings`` has a sample, 0 when it passed, for every check the run ran, so that
an alert on one check resolves when that check passes instead of going stale.

``drill_last_success_timestamp_seconds`` has no sample for a database that never passed a drill:
a 0 would be a made-up moment in 1970 on every dashboard, and Prometheus' convention is that an
unknown time is absent. ``drill_restore_passed`` (and, for ``drill check`` runs, the
``copies_3_2_1`` finding that judges the "0") still says the database is undrilled; an alert for
"never drilled" is ``drill_restore_passed == 0 unless drill_last_success_timestamp_seconds``.
The per-database drill samples exist only in runs that did a restore drill (``drill run``), and
each of the three timing gauges only when the restore finding recorded it.

Pushgateway grouping key: ``{"instance": <shard>, "command": <command>}`` under the configured job,
where the shard is ``"all"`` for a run over the whole config and ``"+".join(sorted(databases))``
for a run limited with ``--database``. A push (PUT) replaces its group only, so CronJobs sharded
one per database, and ``drill check`` beside ``drill run``, never overwrite each other's samples.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile
from prometheus_client.exposition import basic_auth_handler, default_handler

from drill.checks.restore import RestoreEvidence
from drill.config import MetricsSettings
from drill.model import DrillRun, Finding, Status
from drill.reports import history_line
from drill.reports.notify import origin, redact

ALL_DATABASES = "all"
_MAX_BODY = 200

# The restore finding's figure behind each per-database timing gauge; None when it has none.
_RESTORE_GAUGES: tuple[tuple[str, Callable[[RestoreEvidence], float | None], str], ...] = (
    (
        "drill_restore_total_seconds",
        lambda restored: restored.total_seconds,
        "Seconds the last restore drill took, download to verified; absent if it broke off at a stage.",
    ),
    (
        "drill_rto_seconds",
        lambda restored: restored.rto_seconds,
        "The database's recovery time objective, in seconds.",
    ),
    (
        "drill_snapshot_age_seconds",
        lambda restored: restored.snapshot_age_seconds,
        "Age in seconds of the snapshot the drill restored, when the drill ran.",
    ),
)


def registry_for(run: DrillRun, last_success: Mapping[str, datetime]) -> CollectorRegistry:
    """The run's metrics in a registry of their own (never the process-wide default one).

    ``last_success`` is each database's last passing drill from the history
    (``history.last_passing_drills``); this run's own passing drill counts whether or not its
    history line is already in there.
    """
    registry = CollectorRegistry()
    command = run.command

    def gauge(name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, ("command", *labels), registry=registry)

    gauge("drill_last_run_timestamp_seconds", "When the last drill run finished, in Unix time.").labels(
        command
    ).set(run.finished_at.timestamp())
    gauge("drill_run_duration_seconds", "How long the last drill run took, in seconds.").labels(command).set(
        run.duration_seconds
    )
    gauge(
        "drill_run_failed",
        "1 if the last run's verdict was fail or error (could not verify), 0 if it passed.",
    ).labels(command).set(1 if run.status.is_failing else 0)

    findings = gauge("drill_findings", "Findings of the last run, by status.", "status")
    for status, count in run.counts().items():
        findings.labels(command, status).set(count)

    failing = gauge(
        "drill_failing_findings",
        "Findings of the last run that failed or could not verify, by check; 0 for a check that passed.",
        "check",
    )
    for check, count in sorted(_failing_by_check(run).items()):
        failing.labels(command, check).set(count)

    drills = history_line.summary(run)["drills"]
    databases = [covered.name for covered in run.coverage.databases]
    success = gauge(
        "drill_last_success_timestamp_seconds",
        "When the database's last passing restore drill finished, in Unix time; absent if it never passed.",
        "database",
    )
    for database in databases:
        moments = [last_success.get(database)]
        if drills.get(database, {}).get("passed"):
            moments.append(run.finished_at)
        known = [moment for moment in moments if moment is not None]
        if known:
            success.labels(command, database).set(max(known).timestamp())

    passed = gauge(
        "drill_restore_passed",
        "1 if the last run's restore drill of the database passed (restore and integrity), else 0.",
        "database",
    )
    for database in databases:
        if database in drills:
            passed.labels(command, database).set(1 if drills[database]["passed"] else 0)

    restores = _restore_findings(run.findings)
    for name, figure, documentation in _RESTORE_GAUGES:
        timing = gauge(name, documentation, "database")
        for database in databases:
            restore = restores.get(database)
            if restore is None or not isinstance(restore.evidence, RestoreEvidence):
                continue
            value = figure(restore.evidence)
            if name == "drill_restore_total_seconds" and not _completed(restore):
                value = None
            if value is not None:
                timing.labels(command, database).set(value)
    return registry


def _completed(restore: Finding) -> bool:
    """Whether the drill restored at all: passed, or failed only by taking longer than the RTO.

    A restore that broke off at a stage, or could not be judged, took no recovery time: only the
    time it took to fail, which must not plot as one.
    """
    if restore.status in (Status.PASS, Status.WARN):
        return True
    restored = restore.evidence
    return restore.status is Status.FAIL and not (
        isinstance(restored, RestoreEvidence) and restored.failed_stage
    )


def _failing_by_check(run: DrillRun) -> dict[str, int]:
    # A check that crashed has an error finding under its id, whether or not run.checks lists it.
    counts = {info.id: 0 for info in run.checks}
    for finding in run.findings:
        counts[finding.check] = counts.get(finding.check, 0) + (1 if finding.status.is_failing else 0)
    return counts


def _restore_findings(findings: Iterable[Finding]) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for finding in findings:
        if finding.check == "restore" and finding.database and finding.status is not Status.SKIPPED:
            found.setdefault(finding.database, finding)
    return found


def write_textfile(registry: CollectorRegistry, path: Path) -> None:
    """Write the node_exporter textfile, replacing it atomically; raises OSError.

    ``write_to_textfile`` writes ``<path>.<pid>.<thread>`` in the same directory (so on the same
    filesystem; the collector reads only ``*.prom``) and renames it over ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


def grouping_key(run: DrillRun, selection: Iterable[str] | None = None) -> dict[str, str]:
    """The Pushgateway group of a run: its shard and its command.

    ``selection`` is the ``--database`` names the run was limited to (empty: the whole config,
    shard ``all``, which stays the same when a database is added). None takes the run's covered
    databases instead, for a caller that does not know.
    """
    names = [covered.name for covered in run.coverage.databases] if selection is None else list(selection)
    shard = "+".join(sorted(set(names))) or ALL_DATABASES
    return {"instance": shard, "command": run.command}


class PushURLError(ValueError):
    """A Pushgateway URL that cannot be used; the message never holds the URL."""


def push(
    registry: CollectorRegistry,
    url: str,
    *,
    job: str,
    grouping: Mapping[str, str],
    timeout: float,
) -> None:
    """PUT the registry to the Pushgateway, replacing its group; raises what urllib raises.

    Credentials in the URL (``https://user:password@host``) are taken out of it and sent as basic
    auth. ``timeout`` bounds each connect and each read.
    """
    target, username, password = split_credentials(url)
    handler = default_handler if username is None else _basic_auth(username, password or "")
    push_to_gateway(
        target, job=job, registry=registry, grouping_key=dict(grouping), timeout=timeout, handler=handler
    )


def _basic_auth(username: str, password: str) -> Callable[..., Callable[[], None]]:
    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        return basic_auth_handler(url, method, timeout, headers, data, username, password)

    return handler


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without userinfo, user name, password)``, the last two percent-decoded.

    The Pushgateway API appends ``/metrics/job/...`` to the URL, so a query or fragment has no
    place in it and is refused rather than pushed to a wrong path.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise PushURLError("the URL does not parse") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PushURLError("the URL is not an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise PushURLError("the URL has a query or a fragment, which the Pushgateway API has no place for")
    host = parts.netloc.rpartition("@")[2]
    target = urlunsplit((parts.scheme, host, parts.path, "", ""))
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return target, username, password


def publish_metrics(
    run: DrillRun,
    settings: MetricsSettings,
    environ: Mapping[str, str],
    last_success: Mapping[str, datetime],
    *,
    selection: Iterable[str] | None = None,
) -> list[str]:
    """Write the textfile and push to the Pushgateway, as configured; never raises for I/O.

    Returns one line per problem, for stderr. ``selection`` is as for ``grouping_key``: the CLI
    passes the ``--database`` names (an empty tuple for the whole config).
    """
    if not settings.textfile and not settings.pushgateway_env:
        return []
    registry = registry_for(run, last_success)
    problems: list[str] = []
    if settings.textfile:
        # "{command}" in the path keeps `drill check` and `drill run` from replacing each other's file.
        textfile = settings.textfile.replace("{command}", run.command)
        try:
            write_textfile(registry, Path(textfile))
        except OSError as error:
            problems.append(
                f"metrics: cannot write the textfile {textfile}: {error.strerror or type(error).__name__}."
            )
    if settings.pushgateway_env:
        url = environ.get(settings.pushgateway_env)
        timeout = settings.timeout.total_seconds()
        if not url:
            problems.append(
                f"metrics: environment variable {settings.pushgateway_env} is not set; nothing was pushed."
            )
            return problems
        try:
            push(registry, url, job=settings.job, grouping=grouping_key(run, selection), timeout=timeout)
        except PushURLError as error:
            problems.append(
                f"metrics: cannot push to the Pushgateway in {settings.pushgateway_env}: {error}."
            )
        except (OSError, ValueError, http.client.HTTPException) as error:
            reason = redact(_reason(error, timeout), url).rstrip(".")
            problems.append(f"metrics: cannot push to the Pushgateway at {origin(url)}: {reason}.")
    return problems


def _reason(error: BaseException, timeout: float) -> str:
    """Why a push failed, from urllib's exceptions, without the URL they may hold."""
    if isinstance(error, urllib.error.HTTPError):
        return f"it answered HTTP {error.code} {error.reason}{_quoted_body(error)}"
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    elif isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or type(error).__name__})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, http.client.HTTPException):
        return str(error) or type(error).__name__
    return type(error).__name__


def _quoted_body(error: urllib.error.HTTPError) -> str:
    """The Pushgateway explains a refused push in a short text body; quote its start."""
    if not error.headers or not str(error.headers.get("Content-Type", "")).startswith("text/plain"):
        return ""
    try:
        raw = error.read(_MAX_BODY * 4)
    except (OSError, http.client.HTTPException):
        return ""
    text = " ".join(raw.decode("utf-8", "replace").split())
    if len(text) > _MAX_BODY:
        text = text[: _MAX_BODY - 1] + "…"
    return f" ({text})" if text else ""
