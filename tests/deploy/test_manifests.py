"""The Kubernetes example under deploy/: valid, namespaced API objects, a ServiceAccount ready for
workload identity, and a Secret that holds placeholders only.

Each rule is a function that returns its problems as strings. The shipped manifests must have none,
and every rule is also fed a deliberately broken copy and must name the problem, so no rule passes
by never looking. The CronJobs' rules are in cronjob_rules.py, the ConfigMap's config in test_configmap.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tests.deploy.manifests import (
    AWS_EXAMPLE_SECRET,
    KUBERNETES,
    NAMESPACE,
    NOTIFY_SECRET,
    RBAC_KINDS,
    SCHEMA_VERSIONS,
    SERVICE_ACCOUNT,
    documents,
    label,
    looks_secret,
    main_cronjob,
    named,
    objects,
    pod_spec,
    strings,
)


def schema_problems(document: Mapping[str, Any], version: str) -> list[str]:
    try:
        kubernetes_validate.validate(dict(document), version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top)"
        return [f"{label(document)}: {where}: {error.message}"]
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
        return [f"{label(document)}: {error.message}"]
    return []


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


def test_the_serviceaccount_is_prepared_for_workload_identity_and_bound_to_nothing() -> None:
    assert serviceaccount_problems(named("ServiceAccount", SERVICE_ACCOUNT)) == []
    assert not [label(item) for _, item in documents() if item["kind"] in RBAC_KINDS]


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


def test_secret_shapes_are_recognised() -> None:
    assert looks_secret("AKIAIOSFODNN7EXAMPLE")
    assert looks_secret(f"key={AWS_EXAMPLE_SECRET}")
    assert looks_secret("-----BEGIN RSA PRIVATE KEY-----")
    assert not looks_secret("/usr/lib/postgresql/15/bin/and/a/long/lowercase/path")
    assert not looks_secret("arn:aws:iam::222222222222:role/backup-writer")
