"""The Kubernetes example under deploy/, loaded for the manifest tests: its documents, objects by
kind and name, the CronJobs' pods, and drill's config as the ConfigMap carries it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from drill.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
# The oldest release the example promises (CronJob timeZone is GA since 1.27) and the newest the
# installed kubernetes-validate ships schemas for.
SCHEMA_VERSIONS = ("1.30", kubernetes_validate.latest_version())
NAMESPACE = "drill"
SERVICE_ACCOUNT = "drill"
NOTIFY_SECRET = "drill-notify"
RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
DUMMY_URL = "https://drill.example.invalid/dummy"
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documentation example


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


def cronjobs() -> list[dict[str, Any]]:
    return objects("CronJob")


def main_cronjob() -> dict[str, Any]:
    return named("CronJob", "drill")


def shards() -> list[dict[str, Any]]:
    return [item for item in cronjobs() if item["metadata"]["name"] != "drill"]


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
