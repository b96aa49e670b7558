"""The rules the Dockerfile meets: a multi-stage build on pinned bases, a numeric non-root user,
drill as the entrypoint, PostgreSQL's programs, and no config, credential or key built in.

Each rule returns its problems as strings, so the same rule judges the shipped file (no problem)
and broken copies (the problem named).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

from tests.deploy.dockerfile import Stage, copy_sources, env_of, labels_of, parse, shell_commands

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
