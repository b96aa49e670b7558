"""The Dockerfile and .dockerignore: a non-root image with PostgreSQL's programs and nothing secret in it.

No Docker engine is needed: a small parser reads the instructions, and each rule returns its problems
as strings, so the same rule judges the shipped files (no problem) and broken copies (the problem named).
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
PG_MAJOR = 15
# Sources that would put a config, a credential or a key into a layer.
SECRET_SOURCES = (
    re.compile(r"\.toml$"),
    re.compile(r"(^|/)\.env(\.|$)"),
    re.compile(r"credential", re.IGNORECASE),
    re.compile(r"\.(pem|key|p12|pfx)$"),
    re.compile(r"(^|/)id_(rsa|ecdsa|ed25519)"),
    re.compile(r"(^|/)\.(aws|pgpass|netrc)"),
    re.compile(r"gcloud|service[-_]?account", re.IGNORECASE),
)
ALLOWED_SOURCES = frozenset({"pyproject.toml"})  # the build's own metadata, not a drill config
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# A small Dockerfile parser: logical lines, stages, exec and shell forms.


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, or None for the shell form."""
        if not self.arguments.startswith("["):
            return None
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


def logical_lines(text: str) -> Iterator[str]:
    """Instructions with their continuations joined; comment lines (also inside a continuation) dropped."""
    buffer: list[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if raw.rstrip().endswith("\\"):
            buffer.append(raw.rstrip()[:-1])
            continue
        buffer.append(raw)
        yield " ".join(part.strip() for part in buffer if part.strip())
        buffer = []
    if buffer:
        yield " ".join(part.strip() for part in buffer if part.strip())


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = [word for word in arguments.split() if not word.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages


def env_of(stage: Stage) -> dict[str, str]:
    """ENV KEY=VALUE pairs, with $PATH-style references left as written."""
    values: dict[str, str] = {}
    for item in stage.all("ENV"):
        words = shlex.split(item.arguments)
        if words and "=" not in words[0]:
            values[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            values[key] = value
    return values


def labels_of(stage: Stage) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in stage.all("LABEL"):
        for word in shlex.split(item.arguments):
            key, _, value = word.partition("=")
            values[key] = value
    return values


def copy_sources(item: Instruction) -> list[str]:
    words = item.exec_form() or shlex.split(item.arguments)
    words = [word for word in words if not word.startswith("--")]
    return words[:-1]


def shell_commands(run: Instruction) -> list[str]:
    """A RUN's commands, split at ; && || and newlines (good enough for apt-get lines)."""
    return [part.strip() for part in re.split(r";|&&|\|\|", run.arguments) if part.strip()]


# ---------------------------------------------------------------------------------------------
# Rules


def base_problems(stages: list[Stage]) -> list[str]:
    problems = []
    if len(stages) < 2:
        problems.append(f"{len(stages)} stage(s): the image must be multi-stage (build the wheel apart).")
    for stage in stages:
        image = stage.base
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if "$" in image:
            problems.append(f"FROM {image}: the base is an ARG, so its tag cannot be checked.")
        elif "@sha256:" not in image and (not tag or tag == "latest"):
            problems.append(f"FROM {image}: the base image is not pinned to a tag.")
    if len(stages) >= 2 and stages[0].base.partition("@")[0] != stages[-1].base.partition("@")[0]:
        problems.append(
            f"the builder ({stages[0].base}) and final ({stages[-1].base}) bases differ: the installed "
            "prefix is copied into the final image and needs the same Python."
        )
    return problems


def user_problems(final: Stage, uid: int) -> list[str]:
    user = final.last("USER")
    if user is None:
        return ["the final stage sets no USER: drill would run as root."]
    owner, _, group = user.arguments.partition(":")
    if not owner.isdigit() or (group and not group.isdigit()):
        return [f"USER {user.arguments}: not numeric, so Kubernetes cannot verify runAsNonRoot."]
    if int(owner) == 0:
        return [f"USER {user.arguments}: root; initdb refuses to run as root."]
    problems = []
    if int(owner) != uid:
        problems.append(f"USER {user.arguments} does not match the manifests' runAsUser {uid}.")
    if not any(f"--uid {owner}" in run.arguments for run in final.all("RUN")):
        problems.append(f"no RUN creates user {owner} (useradd --uid): initdb needs it in /etc/passwd.")
    return problems


def entrypoint_problems(final: Stage, config_path: str) -> list[str]:
    problems = []
    entrypoint = final.last("ENTRYPOINT")
    if entrypoint is None or entrypoint.exec_form() != ["drill"]:
        problems.append(f'ENTRYPOINT is {entrypoint.arguments if entrypoint else None!r}, not ["drill"].')
    command = final.last("CMD")
    if command is None or command.exec_form() != ["run", "-c", config_path]:
        problems.append(
            f'CMD is {command.arguments if command else None!r}, not ["run", "-c", "{config_path}"].'
        )
    return problems


def copy_problems(stages: list[Stage]) -> list[str]:
    problems = []
    for stage in stages:
        for item in stage.all("COPY") + stage.all("ADD"):
            for source in copy_sources(item):
                if source in ALLOWED_SOURCES or item.arguments.startswith("--from="):
                    continue
                if any(shape.search(source) for shape in SECRET_SOURCES):
                    problems.append(
                        f"{item.keyword} {source}: a config, credential or key would be built in."
                    )
    for item in stages[-1].all("COPY") + stages[-1].all("ADD"):
        if not item.arguments.startswith("--from="):
            problems.append(f"{item.keyword} {item.arguments}: the final stage copies only from the builder.")
    return problems


def apt_problems(final: Stage) -> list[str]:
    problems = []
    installed: set[str] = set()
    for run in final.all("RUN"):
        commands = shell_commands(run)
        for command in commands:
            words = command.split()
            if words[:2] == ["apt-get", "install"]:
                if "--no-install-recommends" not in words:
                    problems.append(f"`{command}` lacks --no-install-recommends.")
                installed.update(word for word in words[2:] if not word.startswith("-"))
        if any(command.startswith("apt-get update") for command in commands) and not any(
            command == "rm -rf /var/lib/apt/lists/*" for command in commands
        ):
            problems.append(
                "a RUN runs apt-get update without removing the apt lists (rm -rf /var/lib/apt/lists/*)."
            )
    for package in (f"postgresql-{PG_MAJOR}", f"postgresql-client-{PG_MAJOR}"):
        if package not in installed:
            problems.append(f"{package} is not installed: the restore drill needs its programs.")
    return problems


def env_problems(final: Stage) -> list[str]:
    values = env_of(final)
    problems = []
    if f"/usr/lib/postgresql/{PG_MAJOR}/bin" not in values.get("PATH", "").split(":"):
        problems.append(f"PATH does not hold /usr/lib/postgresql/{PG_MAJOR}/bin.")
    for key in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"):
        if values.get(key) != "1":
            problems.append(f"{key} is not 1.")
    for stage_item in final.all("ENV") + final.all("ARG"):
        for word in shlex.split(stage_item.arguments):
            if SECRET_NAMES.search(word.partition("=")[0]):
                problems.append(
                    f"{stage_item.keyword} {word.partition('=')[0]}: a secret must not be built in."
                )
    return problems


def label_problems(final: Stage, version: str) -> list[str]:
    labels = labels_of(final)
    problems = [
        f"LABEL {key} is missing."
        for key in ("org.opencontainers.image.title", "org.opencontainers.image.licenses")
        if not labels.get(key)
    ]
    if labels.get("org.opencontainers.image.version") != version:
        problems.append(
            f"LABEL org.opencontainers.image.version is {labels.get('org.opencontainers.image.version')!r}, "
            f"not pyproject's {version!r}."
        )
    return problems


def directory_problems(final: Stage, uid: int, paths: Iterable[str]) -> list[str]:
    """The writable dirs exist in the image and belong to the user (for `docker run` without volumes)."""
    runs = [run.arguments for run in final.all("RUN")]
    return [
        f"no RUN creates {path} owned by {uid}."
        for path in paths
        if not any(path in run and f"-o {uid}" in run for run in runs)
    ]


def dockerfile_problems(
    text: str, uid: int, config_path: str, version: str, writable: Iterable[str]
) -> list[str]:
    stages = parse(text)
    if not stages:
        return ["no FROM: not a Dockerfile."]
    final = stages[-1]
    return [
        *base_problems(stages),
        *user_problems(final, uid),
        *entrypoint_problems(final, config_path),
        *copy_problems(stages),
        *apt_problems(final),
        *env_problems(final),
        *label_problems(final, version),
        *directory_problems(final, uid, writable),
    ]


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus **), as a regex over a context-relative path."""
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            regex += ".*"
            index += 2
        elif pattern[index] == "*":
            regex += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            regex += "[^/]"
            index += 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            regex += pattern[index : end + 1]
            index = end + 1
        else:
            regex += re.escape(pattern[index])
            index += 1
    return re.compile(regex)


def ignored(path: str, rules: list[str]) -> bool:
    """Whether the context sends ``path``: the last matching rule wins; a matched dir takes its contents."""
    candidates = [path, *(str(parent) for parent in PurePosixPath(path).parents if str(parent) != ".")]
    verdict = False
    for rule in rules:
        negated = rule.startswith("!")
        pattern = _pattern(rule.lstrip("!").strip("/"))
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            verdict = not negated
    return verdict


def dockerignore_rules(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


MUST_BE_IGNORED = (
    ".venv/bin/python",
    ".git/config",
    ".pytest_cache/v/cache/lastfailed",
    ".mypy_cache/3.11/drill/cli.meta.json",
    ".ruff_cache/content",
    "drill/__pycache__",
    "drill-reports/history.jsonl",
    "bench/out/posture.json",
    "drill.toml",
    "config.example.toml",
    ".env",
    "deploy/kubernetes/secret.example.yaml",
)


def dockerignore_problems(text: str, sent: Iterable[str]) -> list[str]:
    rules = dockerignore_rules(text)
    problems = [
        f"{path} is not excluded from the build context."
        for path in MUST_BE_IGNORED
        if not ignored(path, rules)
    ]
    problems += [
        f"{path} is excluded, but the Dockerfile copies it." for path in sent if ignored(path, rules)
    ]
    return problems


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


def sent_sources() -> list[str]:
    """What the builder copies from the context, with a file inside each copied directory."""
    builder = parse(DOCKERFILE.read_text())[0]
    sent = []
    for item in builder.all("COPY"):
        for source in copy_sources(item):
            sent.append(source.rstrip("/"))
            if (REPO / source).is_dir():
                sent.append(f"{source.rstrip('/')}/__init__.py")
    return sent


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


def test_the_dockerignore_keeps_caches_reports_and_configs_out_but_sends_the_sources() -> None:
    sent = sent_sources()
    assert {"pyproject.toml", "README.md", "drill", "checks", "reports"} <= set(sent)
    assert dockerignore_problems(DOCKERIGNORE.read_text(), sent) == []


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


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("\n.venv\n", "\n", ".venv/bin/python is not excluded"),
        ("\n.git\n", "\n", ".git/config is not excluded"),
        ("\ndrill-reports\n", "\n", "drill-reports/history.jsonl is not excluded"),
        ("\n*.toml\n", "\n", "drill.toml is not excluded"),
        ("\n!pyproject.toml\n", "\n", "pyproject.toml is excluded, but the Dockerfile copies it"),
        ("\n**/__pycache__\n", "\n", "__pycache__"),
    ],
)
def test_the_rules_reject_a_broken_dockerignore(old: str, new: str, expected: str) -> None:
    text = DOCKERIGNORE.read_text()
    assert old in text, f"the mutation no longer applies: {old!r}"
    problems = dockerignore_problems(text.replace(old, new, 1), sent_sources())
    assert any(expected in problem for problem in problems), problems
