"""The Kubernetes example under deploy/: valid API objects, and the fields a safe drill run depends on.

Each rule is a function that returns its problems as strings. The shipped manifests must have none,
and every rule is also fed a deliberately broken copy and must name the problem, so no rule passes
by never looking.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from drill.config import Config, ConfigError, load_config
from drill.cron import trigger

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
# The oldest release the example promises (CronJob timeZone is GA since 1.27) and the newest the
# installed kubernetes-validate ships schemas for.
SCHEMA_VERSIONS = ("1.30", kubernetes_validate.latest_version())
NAMESPACE = "drill"
SERVICE_ACCOUNT = "drill"
NOTIFY_SECRET = "drill-notify"
# Time a Job needs beyond its restores: posture checks, downloads, verification, the reports.
DEADLINE_HEADROOM = timedelta(minutes=30)
# Scratch server stop (fast, immediate, SIGKILL: about 5 s each) and removal of its data directory.
MIN_GRACE_SECONDS = 60
# Credentials drill must never get from the pod spec: static keys defeat workload identity.
FORBIDDEN_ENV = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})
RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
DUMMY_URL = "https://drill.example.invalid/dummy"


# ---------------------------------------------------------------------------------------------
# Loading


def _image_uid() -> int:
    """The numeric UID of the Dockerfile's last USER (test_dockerfile checks the rest of it)."""
    users = re.findall(r"^USER\s+(\S+)", (REPO / "Dockerfile").read_text(), flags=re.MULTILINE)
    owner = users[-1].split(":")[0] if users else ""
    return int(owner) if owner.isdigit() else -1  # -1: no numeric USER, which no runAsUser matches


IMAGE_UID = _image_uid()


def manifest_files() -> list[Path]:
    return sorted(path for pattern in ("*.yaml", "*.yml") for path in DEPLOY.rglob(pattern))


def documents() -> list[tuple[Path, Any]]:
    found = []
    for path in manifest_files():
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                found.append((path, document))
    return found


def objects(kind: str) -> list[dict[str, Any]]:
    return [document for _, document in documents() if document.get("kind") == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    matches = [item for item in objects(kind) if item["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected exactly one {kind} {name!r} under deploy/, found {len(matches)}"
    return matches[0]


def label(document: Any) -> str:
    return f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"


def pod_spec(cronjob: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def container(cronjob: Mapping[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = pod_spec(cronjob)["containers"][0]
    return first


def config_text() -> str:
    text: str = named("ConfigMap", "drill-config")["data"]["drill.toml"]
    return text


def load_drill_config(text: str, environ: Mapping[str, str], directory: Path) -> Config:
    """drill's own loader, on the text as the pod would see it; raises ConfigError like `drill run`."""
    path = directory / "drill.toml"
    path.write_text(text)
    return load_config(path, environ).config


def named_variables(text: str) -> dict[str, str]:
    """The variables the config names for its outbound URLs, each set to a dummy https URL."""
    raw = tomllib.loads(text)
    names = [
        raw.get("notify", {}).get("webhook_env"),
        raw.get("notify", {}).get("heartbeat_env"),
        raw.get("metrics", {}).get("pushgateway_env"),
    ]
    return {name: DUMMY_URL for name in names if name}


def pod_environ(cronjob: Mapping[str, Any]) -> dict[str, str]:
    """The variables the CronJob's pod gets from Secrets, each set to a dummy https URL."""
    return {
        item["name"]: DUMMY_URL
        for item in container(cronjob).get("env", ())
        if "secretKeyRef" in item.get("valueFrom", {})
    }


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    text = config_text()
    return load_drill_config(text, named_variables(text), tmp_path_factory.mktemp("config"))


def cronjobs() -> list[dict[str, Any]]:
    return objects("CronJob")


def main_cronjob() -> dict[str, Any]:
    return named("CronJob", "drill")


def shards() -> list[dict[str, Any]]:
    return [item for item in cronjobs() if item["metadata"]["name"] != "drill"]


# ---------------------------------------------------------------------------------------------
# Rules


def schema_problems(document: Mapping[str, Any], version: str) -> list[str]:
    try:
        kubernetes_validate.validate(dict(document), version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top)"
        return [f"{label(document)}: {where}: {error.message}"]
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
        return [f"{label(document)}: {error.message}"]
    return []


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


def looks_secret(text: str) -> bool:
    if re.search(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b", text):
        return True
    if "PRIVATE KEY-----" in text:
        return True
    # A 40-character run of base64 (an AWS secret access key's shape) mixing cases and digits.
    return any(
        len(run) == 40 and re.search(r"[a-z]", run) and re.search(r"[A-Z]", run) and re.search(r"[0-9]", run)
        for run in re.findall(r"[A-Za-z0-9/+]+={0,2}", text)
    )


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


def serviceaccount_problems(account: Mapping[str, Any]) -> list[str]:
    annotations = account.get("metadata", {}).get("annotations", {})
    problems = []
    if not re.fullmatch(
        r"arn:aws:iam::[^:]+:role/[\w+=,.@/-]+", annotations.get("eks.amazonaws.com/role-arn", "")
    ):
        problems.append("annotation eks.amazonaws.com/role-arn (IRSA) is missing or not a role ARN.")
    if not re.fullmatch(
        r"[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com", annotations.get("iam.gke.io/gcp-service-account", "")
    ):
        problems.append(
            "annotation iam.gke.io/gcp-service-account (GKE Workload Identity) is missing or not an account."
        )
    if account.get("automountServiceAccountToken") is False:
        problems.append("automountServiceAccountToken is false on the ServiceAccount.")
    return problems


def secret_example_problems(secret: Mapping[str, Any]) -> list[str]:
    problems = []
    if secret.get("data"):
        problems.append(
            "the example Secret has base64 `data`; placeholders belong in stringData, in plain sight."
        )
    for key, value in secret.get("stringData", {}).items():
        host = re.match(r"https://([^/]+)/", str(value))
        if "REPLACE-ME" not in str(value) or not host or not host.group(1).endswith(".invalid"):
            problems.append(f"stringData.{key} is not a placeholder (https://*.invalid/...REPLACE-ME...).")
    return problems


def config_problems(config: Config) -> list[str]:
    problems = [
        f"target {target.name!r} names credentials; keep the table empty so workload identity is used."
        for target in config.targets
        if target.credentials.configured
    ]
    if config.metrics.textfile is not None:
        problems.append("[metrics] textfile is set, but a Job's pod has no node_exporter to read it.")
    if not (config.notify.webhook_env and config.notify.heartbeat_env and config.metrics.pushgateway_env):
        problems.append("the config does not name the webhook, heartbeat and Pushgateway variables.")
    return problems


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


# ---------------------------------------------------------------------------------------------
# The shipped manifests


def test_every_document_is_a_namespaced_kubernetes_object() -> None:
    found = documents()
    assert {path.name for path, _ in found} >= {
        "cronjob.yaml",
        "cronjobs.yaml",
        "configmap.yaml",
        "serviceaccount.yaml",
        "pvc.yaml",
        "secret.example.yaml",
    }
    for path, document in found:
        assert isinstance(document, dict), f"{path}: a document is not a mapping"
        assert {"apiVersion", "kind", "metadata"} <= document.keys(), f"{path}: {document!r:.80}"
        if document["kind"] != "Namespace":
            assert document["metadata"].get("namespace") == NAMESPACE, f"{path}: {label(document)}"
    assert named("Namespace", NAMESPACE)


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("document", [document for _, document in documents()], ids=label)
def test_every_object_validates_against_the_kubernetes_schemas(
    document: dict[str, Any], version: str
) -> None:
    assert schema_problems(document, version) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda job: pod_spec(job).update(restartpolicy="Never"), "'restartpolicy' was unexpected"),
        (
            lambda job: job["spec"]["jobTemplate"]["spec"].update(backoffLimit="zero"),
            "is not of type 'integer'",
        ),
        (lambda job: job["spec"].pop("schedule"), "'schedule' is a required property"),
    ],
    ids=["misspelled field", "wrong type", "missing schedule"],
)
def test_the_schemas_reject_a_broken_cronjob(
    mutate: Callable[[dict[str, Any]], object], expected: str
) -> None:
    broken = copy.deepcopy(main_cronjob())
    mutate(broken)
    problems = schema_problems(broken, SCHEMA_VERSIONS[0])
    assert any(expected in problem for problem in problems), problems


def test_the_configmap_config_loads_with_drills_own_loader(tmp_path: Path) -> None:
    text = config_text()
    environ = named_variables(text)
    assert set(environ) == {"DRILL_WEBHOOK_URL", "DRILL_HEARTBEAT_URL", "DRILL_PUSHGATEWAY_URL"}
    loaded = load_drill_config(text, environ, tmp_path)
    assert [database.name for database in loaded.databases] == ["orders", "billing"]
    assert config_problems(loaded) == []


def test_the_config_loader_refuses_the_config_when_the_secret_variables_are_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DRILL_WEBHOOK_URL is not set"):
        load_drill_config(config_text(), {}, tmp_path)


@pytest.mark.parametrize("cronjob", cronjobs(), ids=label)
def test_each_cronjob_provides_every_variable_the_config_names(
    cronjob: dict[str, Any], tmp_path: Path
) -> None:
    assert load_drill_config(config_text(), pod_environ(cronjob), tmp_path).databases


@pytest.mark.parametrize("cronjob", cronjobs(), ids=label)
def test_every_cronjob_meets_the_rules(cronjob: dict[str, Any], config: Config) -> None:
    assert cronjob_problems(cronjob, config) == []


def test_the_serviceaccount_is_prepared_for_workload_identity_and_bound_to_nothing() -> None:
    assert serviceaccount_problems(named("ServiceAccount", SERVICE_ACCOUNT)) == []
    assert not [label(item) for _, item in documents() if item["kind"] in RBAC_KINDS]


def test_the_sharded_cronjobs_are_the_cronjob_but_for_their_database(config: Config) -> None:
    sharded = shards()
    assert len(sharded) >= 2
    assert sorted(name for shard in sharded for name in drilled_databases(shard, config)) == sorted(
        database.name for database in config.databases
    )
    for shard in sharded:
        assert shard_problems(shard, main_cronjob()) == []


def test_the_secret_is_an_example_holding_placeholders_only() -> None:
    secrets = objects("Secret")
    assert [secret["metadata"]["name"] for secret in secrets] == [NOTIFY_SECRET]
    assert "EXAMPLE ONLY" in (KUBERNETES / "secret.example.yaml").read_text()
    assert secret_example_problems(secrets[0]) == []


def test_no_manifest_holds_a_secret_shaped_value() -> None:
    for path, document in documents():
        assert not [text for text in strings(document) if looks_secret(text)], path


# ---------------------------------------------------------------------------------------------
# Every rule rejects a broken copy


def _env(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in container(job)["env"] if item["name"] == name)


def _without_mount(job: dict[str, Any], path: str) -> None:
    container(job)["volumeMounts"] = [m for m in container(job)["volumeMounts"] if m["mountPath"] != path]


def _volume(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(volume for volume in pod_spec(job)["volumes"] if volume["name"] == name)


def _replace_volume(job: dict[str, Any], name: str, source: dict[str, Any]) -> None:
    volumes = pod_spec(job)["volumes"]
    volumes[:] = [{"name": name, **source} if volume["name"] == name else volume for volume in volumes]


AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documentation example
BROKEN_CRONJOBS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("concurrency allowed", lambda job: job["spec"].update(concurrencyPolicy="Allow"), "concurrencyPolicy"),
    (
        "no starting deadline",
        lambda job: job["spec"].pop("startingDeadlineSeconds"),
        "startingDeadlineSeconds",
    ),
    (
        "no success history",
        lambda job: job["spec"].pop("successfulJobsHistoryLimit"),
        "successfulJobsHistoryLimit",
    ),
    ("no failure history", lambda job: job["spec"].pop("failedJobsHistoryLimit"), "failedJobsHistoryLimit"),
    ("no time zone", lambda job: job["spec"].pop("timeZone"), "timeZone"),
    ("bad schedule", lambda job: job["spec"].update(schedule="61 3 * * *"), "schedule"),
    ("seconds field", lambda job: job["spec"].update(schedule="0 0 3 * * *"), "five cron fields"),
    (
        "no deadline",
        lambda job: job["spec"]["jobTemplate"]["spec"].pop("activeDeadlineSeconds"),
        "activeDeadlineSeconds is not set",
    ),
    (
        "deadline under the timeouts",
        lambda job: job["spec"]["jobTemplate"]["spec"].update(activeDeadlineSeconds=7200),
        "restore timeout",
    ),
    (
        "deadline over the period",
        lambda job: job["spec"]["jobTemplate"]["spec"].update(activeDeadlineSeconds=90000),
        "period",
    ),
    ("retries", lambda job: job["spec"]["jobTemplate"]["spec"].update(backoffLimit=3), "backoffLimit"),
    ("restarts", lambda job: pod_spec(job).update(restartPolicy="OnFailure"), "restartPolicy"),
    ("default account", lambda job: pod_spec(job).update(serviceAccountName="default"), "serviceAccountName"),
    (
        "no token",
        lambda job: pod_spec(job).update(automountServiceAccountToken=False),
        "automountServiceAccountToken",
    ),
    (
        "short grace",
        lambda job: pod_spec(job).update(terminationGracePeriodSeconds=5),
        "terminationGracePeriodSeconds",
    ),
    ("root allowed", lambda job: pod_spec(job)["securityContext"].update(runAsNonRoot=False), "runAsNonRoot"),
    ("root user", lambda job: pod_spec(job)["securityContext"].update(runAsUser=0), "runAsUser"),
    (
        "other container user",
        lambda job: container(job)["securityContext"].update(runAsUser=1000),
        "runAsUser",
    ),
    ("no fsGroup", lambda job: pod_spec(job)["securityContext"].pop("fsGroup"), "fsGroup"),
    (
        "unconfined",
        lambda job: pod_spec(job)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "seccompProfile",
    ),
    (
        "escalation",
        lambda job: container(job)["securityContext"].update(allowPrivilegeEscalation=True),
        "allowPrivilegeEscalation",
    ),
    (
        "writable root",
        lambda job: container(job)["securityContext"].update(readOnlyRootFilesystem=False),
        "readOnlyRootFilesystem",
    ),
    (
        "capabilities kept",
        lambda job: container(job)["securityContext"].update(capabilities={"drop": []}),
        "capabilities",
    ),
    (
        "capability added",
        lambda job: container(job)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
        "capabilities",
    ),
    ("latest image", lambda job: container(job).update(image="registry.example.com/drill:latest"), "image"),
    ("untagged image", lambda job: container(job).update(image="registry.example.com/drill"), "image"),
    ("entrypoint replaced", lambda job: container(job).update(command=["sh", "-c"]), "command"),
    ("no limits", lambda job: container(job)["resources"].pop("limits"), "resources.limits"),
    ("no /tmp", lambda job: _without_mount(job, "/tmp"), "/tmp"),
    ("no work dir", lambda job: _without_mount(job, "/var/lib/drill/work"), "/var/lib/drill/work"),
    ("unbounded work dir", lambda job: _volume(job, "work").update(emptyDir={}), "sizeLimit"),
    ("reports in the pod", lambda job: _replace_volume(job, "reports", {"emptyDir": {}}), "[report] dir"),
    ("writable config", lambda job: container(job)["volumeMounts"][0].update(readOnly=False), "readOnly"),
    ("other config", lambda job: _volume(job, "config")["configMap"].update(name="other"), "drill-config"),
    (
        "static key id",
        lambda job: container(job)["env"].append(
            {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"}
        ),
        "AWS_ACCESS_KEY_ID",
    ),
    (
        "static secret",
        lambda job: container(job)["env"].append(
            {
                "name": "AWS_SECRET_ACCESS_KEY",
                "valueFrom": {"secretKeyRef": {"name": NOTIFY_SECRET, "key": "webhook-url"}},
            }
        ),
        "AWS_SECRET_ACCESS_KEY",
    ),
    (
        "literal secret",
        lambda job: container(job)["env"].append({"name": "TOKEN", "value": AWS_EXAMPLE_SECRET}),
        "secret-looking",
    ),
    ("envFrom", lambda job: container(job).update(envFrom=[{"secretRef": {"name": "aws"}}]), "envFrom"),
    (
        "unknown secret key",
        lambda job: _env(job, "DRILL_WEBHOOK_URL")["valueFrom"]["secretKeyRef"].update(key="nope"),
        "'nope'",
    ),
    (
        "unknown database",
        lambda job: container(job)["args"].extend(["--database", "inventory"]),
        "'inventory'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [case[1:] for case in BROKEN_CRONJOBS], ids=[case[0] for case in BROKEN_CRONJOBS]
)
def test_the_rules_reject_a_broken_cronjob(
    mutate: Callable[[dict[str, Any]], object], expected: str, config: Config
) -> None:
    broken = copy.deepcopy(main_cronjob())
    mutate(broken)
    problems = cronjob_problems(broken, config)
    assert any(expected in problem for problem in problems), problems


def test_a_drifted_or_unsharded_shard_is_rejected() -> None:
    drifted = copy.deepcopy(shards()[0])
    container(drifted)["resources"]["limits"]["memory"] = "64Gi"
    assert any("differs from cronjob.yaml" in problem for problem in shard_problems(drifted, main_cronjob()))
    unsharded = copy.deepcopy(shards()[0])
    container(unsharded)["args"] = ["run", "-c", "/etc/drill/drill.toml"]
    assert any("passes no --database" in problem for problem in shard_problems(unsharded, main_cronjob()))


def test_a_serviceaccount_without_either_annotation_is_rejected() -> None:
    for annotation, expected in (
        ("eks.amazonaws.com/role-arn", "IRSA"),
        ("iam.gke.io/gcp-service-account", "GKE"),
    ):
        broken = copy.deepcopy(named("ServiceAccount", SERVICE_ACCOUNT))
        broken["metadata"]["annotations"].pop(annotation)
        assert any(expected in problem for problem in serviceaccount_problems(broken))


def test_a_secret_with_a_real_looking_value_is_rejected() -> None:
    broken = copy.deepcopy(named("Secret", NOTIFY_SECRET))
    broken["stringData"]["webhook-url"] = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
    assert secret_example_problems(broken) == [
        "stringData.webhook-url is not a placeholder (https://*.invalid/...REPLACE-ME...)."
    ]


def test_a_config_with_static_credentials_or_a_textfile_is_rejected(tmp_path: Path) -> None:
    # The first empty credentials table is s3-primary's.
    text = config_text().replace("credentials = {}\n", 'credentials = { profile = "backup-reader" }\n', 1)
    text += '\ntextfile = "/var/lib/node_exporter/drill.prom"\n'  # lands in [metrics], the last table
    problems = config_problems(load_drill_config(text, named_variables(text), tmp_path))
    assert any("'s3-primary' names credentials" in problem for problem in problems), problems
    assert any("textfile" in problem for problem in problems), problems


def test_secret_shapes_are_recognised() -> None:
    assert looks_secret("AKIAIOSFODNN7EXAMPLE")
    assert looks_secret(f"key={AWS_EXAMPLE_SECRET}")
    assert looks_secret("-----BEGIN RSA PRIVATE KEY-----")
    assert not looks_secret("/usr/lib/postgresql/15/bin/and/a/long/lowercase/path")
    assert not looks_secret("arn:aws:iam::222222222222:role/backup-writer")
