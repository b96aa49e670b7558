"""The Dockerfile: a non-root image with PostgreSQL's programs and nothing secret in it.

No Docker engine is needed: a small parser (dockerfile.py) reads the instructions, and each rule
(dockerfile_rules.py) returns its problems as strings, so the same rule judges the shipped file
(no problem) and broken copies (the problem named).
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml

from tests.deploy.dockerfile import DOCKERFILE, REPO, Instruction, parse
from tests.deploy.dockerfile_rules import dockerfile_problems

# ---------------------------------------------------------------------------------------------
# What the rules are checked against: the manifests, the config, pyproject


def manifests_uid() -> int:
    uids: set[int] = set()
    for path in sorted((REPO / "deploy").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CronJob":
                uids.add(
                    document["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"][
                        "runAsUser"
                    ]
                )
    assert len(uids) == 1, f"the CronJobs run as {sorted(uids)}"
    return uids.pop()


def configmap_config() -> dict[str, Any]:
    document = yaml.safe_load((REPO / "deploy/kubernetes/configmap.yaml").read_text())
    config: dict[str, Any] = tomllib.loads(document["data"]["drill.toml"])
    return config


def main_cronjob_config_path() -> str:
    document = yaml.safe_load((REPO / "deploy/kubernetes/cronjob.yaml").read_text())
    args = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    path: str = args[args.index("-c") + 1]
    return path


def project_version() -> str:
    version: str = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    return version


@pytest.fixture(scope="module")
def context() -> dict[str, Any]:
    config = configmap_config()
    return {
        "uid": manifests_uid(),
        "config_path": main_cronjob_config_path(),
        "version": project_version(),
        "writable": (config["report"]["dir"], config["restore"]["work_dir"]),
    }


def problems_of(text: str, context: dict[str, Any]) -> list[str]:
    return dockerfile_problems(
        text, context["uid"], context["config_path"], context["version"], context["writable"]
    )


# ---------------------------------------------------------------------------------------------
# The shipped files


def test_the_parser_reads_stages_continuations_and_exec_forms() -> None:
    stages = parse(
        'FROM a:1 AS b\n# note\nRUN x \\\n  # inside\n  && y\nFROM --platform=linux/amd64 c:2\nENTRYPOINT ["z"]\n'
    )
    assert [(stage.base, stage.name) for stage in stages] == [("a:1", "b"), ("c:2", None)]
    assert stages[0].instructions == [Instruction("RUN", "x && y")]
    assert stages[1].instructions[0].exec_form() == ["z"]


def test_the_dockerfile_meets_the_rules(context: dict[str, Any]) -> None:
    assert problems_of(DOCKERFILE.read_text(), context) == []


def test_the_image_runs_as_the_user_the_manifests_run_as(context: dict[str, Any]) -> None:
    final = parse(DOCKERFILE.read_text())[-1]
    user = final.last("USER")
    assert user is not None
    assert user.arguments == f"{context['uid']}:{context['uid']}"


# ---------------------------------------------------------------------------------------------
# Every rule rejects a broken copy

FINAL_FROM = "\nFROM python:3.11-slim-bookworm\n"
BROKEN_DOCKERFILES: list[tuple[str, str, str, str]] = [
    ("root user", "USER 10001:10001", "USER 0:0", "root"),
    ("named user", "USER 10001:10001", "USER drill", "not numeric"),
    ("no user", "USER 10001:10001", "", "no USER"),
    ("other user", "USER 10001:10001", "USER 10002:10002", "does not match the manifests' runAsUser"),
    ("user not created", "--uid 10001", "--uid 10009", "useradd"),
    ("shell entrypoint", 'ENTRYPOINT ["drill"]', "ENTRYPOINT drill", "ENTRYPOINT"),
    ("other entrypoint", 'ENTRYPOINT ["drill"]', 'ENTRYPOINT ["sh", "-c", "drill"]', "ENTRYPOINT"),
    ("other command", '"/etc/drill/drill.toml"]', '"/drill.toml"]', "CMD"),
    (
        "config copied",
        "COPY --from=builder",
        "COPY drill.toml /etc/drill/drill.toml\nCOPY --from=builder",
        "COPY drill.toml",
    ),
    ("env file copied", "COPY --from=builder", "COPY .env /var/lib/drill/.env\nCOPY --from=builder", ".env"),
    (
        "credentials added",
        "COPY --from=builder",
        "ADD aws-credentials /var/lib/drill/\nCOPY --from=builder",
        "ADD aws-credentials",
    ),
    (
        "key copied",
        "COPY --from=builder",
        "COPY --chown=10001 gcs.key /var/lib/drill/\nCOPY --from=builder",
        "COPY gcs.key",
    ),
    (
        "builder copies a config",
        "COPY pyproject.toml README.md ./",
        "COPY pyproject.toml drill.toml ./",
        "drill.toml",
    ),
    ("recommends", "--no-install-recommends postgresql-15", "postgresql-15", "--no-install-recommends"),
    ("apt lists kept", "rm -rf /var/lib/apt/lists/*", "true", "apt lists"),
    (
        "no server",
        " postgresql-15 postgresql-client-15",
        " postgresql-client-15",
        "postgresql-15 is not installed",
    ),
    ("no client", "postgresql-15 postgresql-client-15", "postgresql-15", "postgresql-client-15"),
    (
        "latest builder",
        "FROM python:3.11-slim-bookworm AS builder",
        "FROM python:latest AS builder",
        "not pinned",
    ),
    ("untagged final", FINAL_FROM, "\nFROM python\n", "not pinned"),
    ("single stage", FINAL_FROM, "\n", "multi-stage"),
    ("no pg on PATH", "PATH=/usr/lib/postgresql/15/bin:$PATH", "PATH=$PATH", "PATH"),
    ("bytecode", "PYTHONDONTWRITEBYTECODE=1", "PYTHONDONTWRITEBYTECODE=0", "PYTHONDONTWRITEBYTECODE"),
    ("buffered", "PYTHONUNBUFFERED=1\n", "X=1\n", "PYTHONUNBUFFERED"),
    ("secret env", "ENV PATH=", "ENV AWS_SECRET_ACCESS_KEY=x\nENV PATH=", "AWS_SECRET_ACCESS_KEY"),
    ("stale version", 'image.version="0.1.0"', 'image.version="0.0.9"', "pyproject"),
    ("no work dir", " /var/lib/drill/work\n", "\n", "/var/lib/drill/work"),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [case[1:] for case in BROKEN_DOCKERFILES],
    ids=[case[0] for case in BROKEN_DOCKERFILES],
)
def test_the_rules_reject_a_broken_dockerfile(
    old: str, new: str, expected: str, context: dict[str, Any]
) -> None:
    text = DOCKERFILE.read_text()
    assert old in text, f"the mutation no longer applies: {old!r}"
    problems = problems_of(text.replace(old, new, 1), context)
    assert any(expected in problem for problem in problems), problems
