"""AWS credentials: the keys of the credentials and config files the backup targets name, and
``aws_*`` assignments and access key ids found anywhere."""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from drill.config import Credentials
from drill.facts import SightingKind
from drill.trust.exposure.known import Learner, mask_identifier, mask_secret, read_small
from drill.trust.exposure.shape import Shape, placeholder

# Two passes over the file rule out all three names in both usual cases.
_AWS_HINTS = (b"aws_", b"AWS_")
_AWS_ASSIGNMENT = re.compile(
    rb"""(?im)^[ \t]*(?:export[ \t]+)?["']?(aws_access_key_id|aws_secret_access_key|aws_session_token)"""
    rb"""["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+=]+)"""
)
# The value must look like the real thing: source code passing a variable
# (``aws_secret_access_key=secret``) is not a credential.
_AWS_VALUE_SHAPES = {
    b"aws_access_key_id": (re.compile(rb"(?:AKIA|ASIA)[A-Z0-9]{16}"), "AWS access key id", False),
    b"aws_secret_access_key": (re.compile(rb"[A-Za-z0-9/+]{40}"), "AWS secret access key", True),
    b"aws_session_token": (re.compile(rb"[A-Za-z0-9/+=]{100,}"), "AWS session token", True),
}
_KEY_ID_ANYWHERE = re.compile(rb"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")


def learn_aws(learner: Learner, credentials: Credentials, environ: Mapping[str, str], target: str) -> None:
    """The keys a credentials table names: in environment variables, and in the files it reads."""
    variables = (
        (credentials.access_key_id_env, SightingKind.KNOWN_KEY_ID, "access key id"),
        (credentials.secret_access_key_env, SightingKind.KNOWN_SECRET, "secret access key"),
        (credentials.session_token_env, SightingKind.KNOWN_SECRET, "session token"),
    )
    for variable, kind, label in variables:
        if variable:
            learner.value(environ.get(variable), kind, f"{label} (variable {variable})", target)
    for path in _aws_files(credentials, environ):
        _learn_aws_file(learner, path, credentials.profile, target)


def _aws_files(credentials: Credentials, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The named credentials file; for a profile alone, the files the AWS SDK would read it from."""
    if credentials.credentials_file:
        return (credentials.credentials_file,)
    if not credentials.profile:
        return ()
    home = environ.get("HOME")
    defaults = (
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        ("AWS_CONFIG_FILE", "config"),
    )
    return tuple(
        path
        for variable, name in defaults
        if (path := environ.get(variable) or (str(Path(home, ".aws", name)) if home else None))
    )


def _learn_aws_file(learner: Learner, path: str, profile: str | None, target: str) -> None:
    content = read_small(path)
    if content is None:
        return
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(content.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        return
    # Credentials files name a section "backup", config files "profile backup".
    wanted = {profile, f"profile {profile}"} if profile else None
    sections = [section for section in parser.sections() if wanted is None or section in wanted]
    if not sections:
        return
    keys = (
        ("aws_access_key_id", SightingKind.KNOWN_KEY_ID, "access key id"),
        ("aws_secret_access_key", SightingKind.KNOWN_SECRET, "secret access key"),
        ("aws_session_token", SightingKind.KNOWN_SECRET, "session token"),
    )
    for section in sections:
        for key, kind, label in keys:
            value = parser.get(section, key, fallback=None)
            learner.value(value, kind, f"{label} of profile {section} in {path}", target)
    learner.file(content, f"copy of the AWS credentials file {path}", target)


def aws_shapes(data: bytes) -> Iterator[Shape]:
    if not any(hint in data for hint in _AWS_HINTS):
        return
    for match in _AWS_ASSIGNMENT.finditer(data):
        pattern, label, secret = _AWS_VALUE_SHAPES[match.group(1).lower()]
        value = match.group(2)
        if not pattern.fullmatch(value) or placeholder(value):
            continue
        masked = mask_secret(len(value)) if secret else mask_identifier(value.decode())
        yield Shape(match.start(), SightingKind.CREDENTIAL_FILE, label, masked)


def key_id_shapes(data: bytes) -> Iterator[Shape]:
    """An AWS access key id anywhere in the file, whatever surrounds it."""
    if b"AKIA" in data or b"ASIA" in data:
        for match in _KEY_ID_ANYWHERE.finditer(data):
            if not placeholder(match.group()):
                yield Shape(
                    match.start(),
                    SightingKind.CREDENTIAL_FILE,
                    "an AWS access key id",
                    mask_identifier(match.group().decode()),
                )
