"""The rules a CronJob of the example meets: schedule and deadlines, the pod's security, its volumes,
its environment, the databases it drills, and how a shard may differ from the main CronJob.

Each rule returns its problems as strings, so the same rule judges the shipped manifests (no problem)
and broken copies (the problem named).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from drill.config import Config
from drill.cron import trigger
from tests.deploy.manifests import (
    IMAGE_UID,
    NOTIFY_SECRET,
    SERVICE_ACCOUNT,
    container,
    label,
    looks_secret,
    objects,
    pod_spec,
)

# Time a Job needs beyond its restores: posture checks, downloads, verification, the reports.
DEADLINE_HEADROOM = timedelta(minutes=30)
# Scratch server stop (fast, immediate, SIGKILL: about 5 s each) and removal of its data directory.
MIN_GRACE_SECONDS = 60
# Credentials drill must never get from the pod spec: static keys defeat workload identity.
FORBIDDEN_ENV = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})


def drilled_databases(cronjob: Mapping[str, Any], config: Config) -> list[str]:
    """The databases one Job drills: its --database arguments, or every database in the config."""
    args = list(container(cronjob).get("args", ()))
    chosen = [args[index + 1] for index, arg in enumerate(args[:-1]) if arg in ("--database", "-d")]
    return chosen or [database.name for database in config.databases]


def _shortest_period(schedule: str, zone: str) -> timedelta:
    cron = trigger(schedule, zone)
    fire = cron.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC))
    shortest = timedelta.max
    for _ in range(60):
        following = cron.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        shortest = min(shortest, following - fire)
        fire = following
    return shortest


def schedule_problems(cronjob: Mapping[str, Any], config: Config) -> list[str]:
    spec = cronjob["spec"]
    job = spec["jobTemplate"]["spec"]
    problems = []
    schedule, zone = spec.get("schedule", ""), spec.get("timeZone")
    period: timedelta | None = None
    if not zone:
        problems.append("timeZone is not set: the schedule would follow the controller's local time.")
    if len(schedule.split()) != 5:
        problems.append(f"schedule {schedule!r} is not five cron fields.")
    else:
        try:
            period = _shortest_period(schedule, zone or "UTC")
        except ValueError as error:
            problems.append(f"schedule: {error}.")
    if spec.get("concurrencyPolicy") != "Forbid":
        problems.append(
            f"concurrencyPolicy is {spec.get('concurrencyPolicy')!r}; Forbid keeps two drills apart."
        )
    starting = spec.get("startingDeadlineSeconds")
    if not isinstance(starting, int) or starting <= 10:
        problems.append(
            f"startingDeadlineSeconds is {starting!r}; set it above 10 so missed runs are bounded."
        )
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if not isinstance(spec.get(key), int) or spec[key] < 1:
            problems.append(f"{key} is {spec.get(key)!r}; keep at least one Job (and its pod's log).")
    if job.get("backoffLimit") != 0:
        problems.append(f"backoffLimit is {job.get('backoffLimit')!r}; a failed drill must not be retried.")
    deadline = job.get("activeDeadlineSeconds")
    databases = drilled_databases(cronjob, config)
    needed = config.restore.timeout * len(databases) + DEADLINE_HEADROOM
    if not isinstance(deadline, int):
        problems.append("activeDeadlineSeconds is not set: a hung drill would run forever.")
    else:
        if timedelta(seconds=deadline) <= needed:
            problems.append(
                f"activeDeadlineSeconds is {deadline}, not more than the restore timeout "
                f"({config.restore.timeout}) times {len(databases)} database(s) plus {DEADLINE_HEADROOM}."
            )
        if period is not None and timedelta(seconds=deadline) >= period:
            problems.append(
                f"activeDeadlineSeconds is {deadline}, not shorter than the schedule's period ({period}): "
                "with Forbid, a run would be skipped."
            )
    return problems


def pod_problems(cronjob: Mapping[str, Any], uid: int) -> list[str]:
    pod = pod_spec(cronjob)
    problems = []
    if pod.get("restartPolicy") != "Never":
        problems.append(f"restartPolicy is {pod.get('restartPolicy')!r}, not Never.")
    if pod.get("serviceAccountName") != SERVICE_ACCOUNT:
        problems.append(f"serviceAccountName is {pod.get('serviceAccountName')!r}, not {SERVICE_ACCOUNT!r}.")
    if pod.get("automountServiceAccountToken") is False:
        problems.append("automountServiceAccountToken is false; IRSA and GKE Workload Identity need it.")
    grace = pod.get("terminationGracePeriodSeconds")
    if not isinstance(grace, int) or grace < MIN_GRACE_SECONDS:
        problems.append(
            f"terminationGracePeriodSeconds is {grace!r}; drill's SIGTERM cleanup needs {MIN_GRACE_SECONDS}."
        )
    security = pod.get("securityContext", {})
    if security.get("runAsNonRoot") is not True:
        problems.append("pod securityContext.runAsNonRoot is not true.")
    if security.get("runAsUser") != uid:
        problems.append(
            f"pod securityContext.runAsUser is {security.get('runAsUser')!r}, not the image's {uid}."
        )
    if "fsGroup" not in security:
        problems.append("pod securityContext.fsGroup is not set: the report volume may not be writable.")
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("pod securityContext.seccompProfile is not RuntimeDefault.")
    if len(pod.get("containers", ())) != 1 or pod.get("initContainers"):
        problems.append("the pod must run exactly one container, drill.")
        return problems
    main = container(cronjob)
    own = main.get("securityContext", {})
    if own.get("runAsUser", uid) != uid or own.get("runAsNonRoot") is False:
        problems.append(f"container securityContext.runAsUser is {own.get('runAsUser')!r}, not {uid}.")
    if own.get("allowPrivilegeEscalation") is not False:
        problems.append("container securityContext.allowPrivilegeEscalation is not false.")
    if own.get("privileged"):
        problems.append("container securityContext.privileged is set.")
    if own.get("readOnlyRootFilesystem") is not True:
        problems.append("container securityContext.readOnlyRootFilesystem is not true.")
    capabilities = own.get("capabilities", {})
    if capabilities.get("drop") != ["ALL"] or capabilities.get("add"):
        problems.append("container securityContext.capabilities must drop ALL and add none.")
    image = str(main.get("image", ""))
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if "@sha256:" not in image and (not tag or tag == "latest"):
        problems.append(f"image {image!r} is not pinned to a tag or digest.")
    if main.get("command") not in (None, ["drill"]):
        problems.append(f"command {main.get('command')!r} replaces the image's drill entrypoint.")
    args = list(main.get("args", ()))
    if args[:1] != ["run"] or "-c" not in args:
        problems.append(f"args {args!r} are not `run -c CONFIG ...`.")
    resources = main.get("resources", {})
    for part in ("requests", "limits"):
        missing = [
            name for name in ("cpu", "memory", "ephemeral-storage") if name not in resources.get(part, {})
        ]
        if missing:
            problems.append(f"resources.{part} lacks {', '.join(missing)}.")
    return problems


def _volume_at(cronjob: Mapping[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The mount holding ``path`` (the longest mountPath above it) and its volume."""
    target = PurePosixPath(path)
    mounts = [
        mount
        for mount in container(cronjob).get("volumeMounts", ())
        if target == PurePosixPath(mount["mountPath"]) or PurePosixPath(mount["mountPath"]) in target.parents
    ]
    if not mounts:
        return None
    mount = max(mounts, key=lambda item: len(item["mountPath"]))
    volumes = {volume["name"]: volume for volume in pod_spec(cronjob).get("volumes", ())}
    return mount, volumes.get(mount["name"], {})


def mount_problems(cronjob: Mapping[str, Any], config: Config) -> list[str]:
    """Every path drill writes is a writable volume (the root filesystem is read-only); the config is read-only."""
    problems = []
    args = list(container(cronjob).get("args", ()))
    config_path = PurePosixPath(args[args.index("-c") + 1]) if "-c" in args[:-1] else None
    if config_path is None:
        problems.append("args name no config file (-c).")
    else:
        found = _volume_at(cronjob, str(config_path))
        config_map = (found[1].get("configMap") or {}) if found else {}
        keys = {item["path"]: item["key"] for item in config_map.get("items", ())} or {
            config_path.name: config_path.name
        }
        if (
            not found
            or config_map.get("name") != "drill-config"
            or keys.get(config_path.name) != "drill.toml"
        ):
            problems.append(f"{config_path} is not the drill.toml key of the drill-config ConfigMap.")
        elif found[0].get("readOnly") is not True:
            problems.append(f"the config mount {found[0]['mountPath']} is not readOnly.")
    scratch = {"/tmp": "temp files", config.restore.work_dir or "/tmp": "[restore] work_dir"}
    for path, what in scratch.items():
        found = _volume_at(cronjob, path)
        empty_dir = found[1].get("emptyDir") if found else None
        if empty_dir is None:
            problems.append(
                f"{path} ({what}) is not on an emptyDir volume; the root filesystem is read-only."
            )
        elif not empty_dir.get("sizeLimit"):
            problems.append(f"the emptyDir holding {path} ({what}) has no sizeLimit.")
    found = _volume_at(cronjob, config.report.dir)
    claim = (found[1].get("persistentVolumeClaim") or {}).get("claimName") if found else None
    claims = {item["metadata"]["name"] for item in objects("PersistentVolumeClaim")}
    if claim not in claims:
        problems.append(
            f"[report] dir {config.report.dir} is not on a PersistentVolumeClaim defined under deploy/: "
            "the history and the evidence would vanish with the pod."
        )
    elif found and found[0].get("readOnly"):
        problems.append(f"the report volume at {found[0]['mountPath']} is readOnly.")
    return problems


def env_problems(cronjob: Mapping[str, Any], secrets: Sequence[Mapping[str, Any]]) -> list[str]:
    main = container(cronjob)
    problems = []
    if main.get("envFrom"):
        problems.append("envFrom imports a whole Secret or ConfigMap; name each variable in env instead.")
    keys = {secret["metadata"]["name"]: set(secret.get("stringData", {})) for secret in secrets}
    for item in main.get("env", ()):
        name = item["name"]
        if name in FORBIDDEN_ENV:
            problems.append(f"env {name} is set: a static AWS key defeats workload identity.")
        if "value" in item and looks_secret(str(item["value"])):
            problems.append(f"env {name} holds a literal secret-looking value.")
        reference = item.get("valueFrom", {}).get("secretKeyRef")
        if reference and reference.get("key") not in keys.get(reference.get("name"), set()):
            problems.append(
                f"env {name} reads key {reference.get('key')!r} of Secret {reference.get('name')!r}, "
                f"which the {NOTIFY_SECRET} example does not define."
            )
    return problems


def database_problems(cronjob: Mapping[str, Any], config: Config) -> list[str]:
    known = {database.name for database in config.databases}
    return [
        f"--database {name!r} is not a database of the drill-config config (known: {', '.join(sorted(known))})."
        for name in drilled_databases(cronjob, config)
        if name not in known
    ]


def cronjob_problems(cronjob: Mapping[str, Any], config: Config) -> list[str]:
    return [
        *schedule_problems(cronjob, config),
        *pod_problems(cronjob, IMAGE_UID),
        *mount_problems(cronjob, config),
        *env_problems(cronjob, objects("Secret")),
        *database_problems(cronjob, config),
    ]


def _comparable(cronjob: Mapping[str, Any]) -> dict[str, Any]:
    """A CronJob without what a shard may change: names, the instance label, --database, the
    deadline, and which heartbeat key it reads."""
    result = copy.deepcopy(dict(cronjob))
    result["metadata"].pop("name")
    for labels in (
        result["metadata"].get("labels", {}),
        result["spec"]["jobTemplate"].get("metadata", {}).get("labels", {}),
        result["spec"]["jobTemplate"]["spec"]["template"].get("metadata", {}).get("labels", {}),
    ):
        labels.pop("app.kubernetes.io/instance", None)
    result["spec"]["jobTemplate"]["spec"].pop("activeDeadlineSeconds", None)
    main = container(result)
    args = list(main.pop("args", ()))
    while "--database" in args:
        index = args.index("--database")
        del args[index : index + 2]
    main["args"] = args
    for item in main.get("env", ()):
        if item["name"] == "DRILL_HEARTBEAT_URL":
            item["valueFrom"]["secretKeyRef"].pop("key", None)
    return result


def shard_problems(shard: Mapping[str, Any], main: Mapping[str, Any]) -> list[str]:
    problems = []
    args = list(container(shard).get("args", ()))
    if "--database" not in args:
        problems.append(f"{label(shard)} passes no --database: it would drill every database.")
    if _comparable(shard) != _comparable(main):
        problems.append(f"{label(shard)} differs from cronjob.yaml beyond its name, --database and deadline.")
    return problems
