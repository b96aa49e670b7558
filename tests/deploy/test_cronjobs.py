"""The example's CronJobs: the main one and the shards meet the rules of cronjob_rules.py, and every
rule names the problem in a deliberately broken copy, so no rule passes by never looking.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from drill.config import Config
from tests.deploy.cronjob_rules import cronjob_problems, drilled_databases, shard_problems
from tests.deploy.manifests import (
    AWS_EXAMPLE_SECRET,
    NOTIFY_SECRET,
    container,
    cronjobs,
    label,
    main_cronjob,
    pod_spec,
    shards,
)


@pytest.mark.parametrize("cronjob", cronjobs(), ids=label)
def test_every_cronjob_meets_the_rules(cronjob: dict[str, Any], config: Config) -> None:
    assert cronjob_problems(cronjob, config) == []


def test_the_sharded_cronjobs_are_the_cronjob_but_for_their_database(config: Config) -> None:
    sharded = shards()
    assert len(sharded) >= 2
    assert sorted(name for shard in sharded for name in drilled_databases(shard, config)) == sorted(
        database.name for database in config.databases
    )
    for shard in sharded:
        assert shard_problems(shard, main_cronjob()) == []


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
