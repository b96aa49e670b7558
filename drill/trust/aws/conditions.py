"""A statement's Condition, judged for one caller as an attacker would meet it (pure).

Three kinds of condition key:

- keys drill knows for the caller (``aws:PrincipalArn``, ``aws:PrincipalAccount``,
  ``aws:username``): compared as IAM compares them;
- keys the caller sets in its own request (``aws:SecureTransport``, the ``s3:x-amz-*`` headers,
  ``aws:UserAgent``, request tags...): the attacker picks whatever value suits it, so an Allow
  conditioned on them grants, and a Deny conditioned on them can be sidestepped;
- every other key (source address, VPC endpoint, time, MFA, tags of the principal, the
  organization...): drill cannot know how the agent's own requests would fill it, so a statement
  conditioned on it may or may not apply, and the answer it decides is UNKNOWN, naming the key.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from drill.trust.aws.arns import glob_matches
from drill.trust.aws.statements import NO, YES, Applies, Caller, Statement, as_list, maybe

# Keys whose value the requester chooses (lower case, as IAM compares keys case-insensitively).
_CHOSEN_PREFIXES = ("s3:x-amz-", "aws:requesttag/", "s3:object-lock-")
_CHOSEN = frozenset(
    {
        "aws:securetransport",
        "aws:useragent",
        "aws:referer",
        "aws:tagkeys",
        "s3:versionid",
        "s3:signatureversion",
        "s3:authtype",
        "s3:tlsversion",
        "s3:signatureage",
    }
)
_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike")


class _Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    CHOSEN = "chosen by the requester"
    UNKNOWN = "unknown"


def _known(key: str, caller: Caller) -> str | None:
    lowered = key.lower()
    if caller.arn is None:
        return None
    if lowered == "aws:principalarn":
        role = caller.role
        # For a role session, aws:PrincipalArn is the role's ARN, not the session's.
        return (
            f"arn:{caller.partition}:iam::{role[0]}:role/{role[1]}"
            if role and ":sts::" in caller.arn
            else caller.arn
        )
    if lowered == "aws:principalaccount":
        return caller.account
    if lowered == "aws:username":
        return caller.user_name
    return None


def _compare(operator: str, expected: list[str], actual: str) -> bool | None:
    """One operator on a known single value; None for an operator drill does not evaluate."""
    base = operator.removesuffix("IfExists")
    if any("${" in value for value in expected):
        return None
    if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        if base.startswith("Arn"):
            hit = any(glob_matches(value, actual) for value in expected)
        else:
            hit = actual in expected
    elif base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        hit = actual.lower() in (value.lower() for value in expected)
    elif base in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        hit = any(glob_matches(value, actual) for value in expected)
    else:
        return None
    return not hit if base in _NEGATED else hit


def _one(operator: str, key: str, values: Any, caller: Caller) -> _Truth:
    lowered = key.lower()
    if lowered in _CHOSEN or lowered.startswith(_CHOSEN_PREFIXES):
        return _Truth.CHOSEN
    plain = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: on a single-valued key
    actual = _known(key, caller)
    if actual is None:
        return _Truth.UNKNOWN
    if plain == "Null":
        # The keys drill knows are always present: Null true fails, Null false holds.
        return _Truth.FALSE if str(as_list(values)[0]).lower() == "true" else _Truth.TRUE
    result = _compare(plain, as_list(values), actual)
    if result is None:
        return _Truth.UNKNOWN
    return _Truth.TRUE if result else _Truth.FALSE


def condition_applies(statement: Statement, caller: Caller) -> Applies:
    """Whether the statement's Condition holds for requests the caller can make (see module docstring)."""
    block = statement.body.get("Condition")
    if not block:
        return YES
    if not isinstance(block, Mapping):
        return maybe(f"{statement.name} has a Condition drill cannot read")
    truths: list[tuple[_Truth, str]] = []
    for operator, tests in block.items():
        if not isinstance(tests, Mapping):
            truths.append((_Truth.UNKNOWN, str(operator)))
            continue
        for key, values in tests.items():
            truths.append((_one(str(operator), str(key), values, caller), f"{operator} {key}"))
    if any(truth is _Truth.FALSE for truth, _ in truths):
        return NO
    deny = statement.effect == "Deny"
    if deny and any(truth is _Truth.CHOSEN for truth, _ in truths):
        return NO  # the requester sends what keeps the Deny away
    undecided = [where for truth, where in truths if truth is _Truth.UNKNOWN]
    if undecided:
        return maybe(
            f"{statement.name} holds only under a condition drill cannot decide ({', '.join(undecided)})"
        )
    return YES
