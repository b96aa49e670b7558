"""ARNs and IAM's wildcards: pure functions shared by the policy reader, the simulation and the probes."""

from __future__ import annotations

import re

ARN = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):(?P<service>[\w-]+):[^:]*:(?P<account>\d{12})?:(?P<rest>.+)$"
)
ACCOUNT_ID = re.compile(r"\d{12}")
_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ROLE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_USER = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):user/(?:.*/)?([^/]+)$")
_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")


def partition_of(arn: str) -> str:
    """The ARN's partition ("aws", "aws-cn", "aws-us-gov"); "aws" for anything that is not an ARN."""
    match = ARN.match(arn)
    return match["partition"] if match else "aws"


def account_of(arn: str) -> str | None:
    match = ARN.match(arn)
    return match["account"] if match else None


def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


def object_arn(bucket: str, key: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


def prefix_arn(bucket: str, prefix: str, partition: str = "aws") -> str:
    """Every object under ``prefix``, as IAM spells it in a policy: ``arn:aws:s3:::bucket/prefix*``."""
    return object_arn(bucket, f"{prefix}*", partition)


def role_arn(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def role_of(principal: str) -> tuple[str, str] | None:
    """(account, role name) of a role ARN or of one of its assumed-role sessions, else None."""
    session = _ASSUMED_ROLE.match(principal)
    if session:
        return session[2], session[3]
    role = _ROLE.match(principal)
    return (role[1], role[2]) if role else None


def user_of(principal: str) -> tuple[str, str] | None:
    """(account, user name) of an IAM user's ARN, else None."""
    user = _USER.match(principal)
    return (user[1], user[2]) if user else None


def is_root(principal: str) -> bool:
    return _ROOT.match(principal) is not None


def is_session(principal: str) -> bool:
    return _ASSUMED_ROLE.match(principal) is not None


# IAM's wildcards: "*" matches any run of characters, "/" included, and "?" exactly one. No other
# character is special (fnmatch's [...] classes are not IAM syntax), so the matching is done here
# on the pattern's positions: after reading some text, the set of positions still alive.


def _advance(pattern: str, positions: set[int], char: str) -> set[int]:
    moved = set()
    for position in positions:
        if position < len(pattern):
            expected = pattern[position]
            if expected == "*":
                moved.add(position)
            elif expected in ("?", char):
                moved.add(position + 1)
    return _skip_stars(pattern, moved)


def _skip_stars(pattern: str, positions: set[int]) -> set[int]:
    closed = set(positions)
    for start in positions:
        position = start
        while position < len(pattern) and pattern[position] == "*":
            position += 1
            closed.add(position)
    return closed


def _read(pattern: str, text: str) -> set[int]:
    positions = _skip_stars(pattern, {0})
    for char in text:
        positions = _advance(pattern, positions, char)
        if not positions:
            break
    return positions


def glob_matches(pattern: str, value: str) -> bool:
    """Whether an IAM pattern (``*`` and ``?`` wildcards) matches the whole of ``value``."""
    return len(pattern) in _read(pattern, value)


def glob_reaches(pattern: str, prefix: str) -> bool:
    """Whether the pattern matches at least one string that starts with ``prefix``."""
    return bool(_read(pattern, prefix))


def glob_covers(pattern: str, prefix: str) -> bool:
    """Whether the pattern matches every string that starts with ``prefix``."""
    return any(set(pattern[position:]) <= {"*"} for position in _read(pattern, prefix))
