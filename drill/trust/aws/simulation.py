"""IAM policy simulation of a principal against a backup bucket: the request drill sends to
``iam:SimulatePrincipalPolicy`` and the reading of its answer. Pure functions; the call is in
``drill.trust.aws.iam``.

What the simulation sees, per the API reference: every identity policy of the user or role (a
user's groups included) and its permissions boundary, plus one resource policy passed in, which
AWS evaluates for IAM users only ("Simulation of resource-based policies isn't supported for IAM
roles"). It does not see session policies, ACLs, access points, or (per drill's reference notes)
service control policies. An assumed-role session is simulated as its role.

The answer's shape changed over time, and both are read: one ``EvaluationResult`` per action and
resource, the resource in ``EvalResourceName``; or one per action whose ``EvalResourceName`` is an
ARN template (``arn:${Partition}:s3:::${BucketName}/${KeyName}``), the per-resource decisions in
``ResourceSpecificResults``. Only the per-resource decision on the ARN an action acts on counts:
object actions on the objects under the prefix, bucket actions on the bucket.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drill.facts import Answer, EvidenceSource, PermissionAnswer
from drill.names import unescape_name
from drill.permissions import S3_DESTRUCTIVE, S3_OBJECT_PERMISSIONS
from drill.trust.aws.arns import bucket_arn, object_arn, prefix_arn, role_of
from drill.trust.aws.evaluate import Verdict

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"
_SIMULABLE = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:(user|role)/.+$")


def simulable_arn(principal: str) -> str | None:
    """The ARN SimulatePrincipalPolicy takes for a caller: an assumed-role session
    (``arn:aws:sts::ACCT:assumed-role/ROLE/SESSION``) becomes its role
    (``arn:aws:iam::ACCT:role/ROLE``; a role with a path is looked up on NoSuchEntity), users and
    roles stay; the account root and federated users have no policies to simulate: None."""
    if principal.startswith("arn:") and ":sts::" in principal:
        role = role_of(principal)
        if role is None:
            return None
        partition = principal.split(":")[1]
        account, name = role
        return f"arn:{partition}:iam::{account}:role/{name}"
    return principal if _SIMULABLE.match(principal) else None


def is_user(arn: str) -> bool:
    return ":user/" in arn


@dataclass(frozen=True)
class Simulated:
    """How a simulation was asked, which decides how far its answer goes."""

    resource_policy_included: bool  # the bucket policy (or the fact that there is none) was evaluated
    cross_account: bool  # the principal's account is not the bucket owner's


def simulation_request(
    principal_arn: str,
    bucket: str,
    prefix: str,
    *,
    partition: str,
    snapshot_keys: Sequence[str] = (),
    bucket_policy: str | None,
    resource_owner: str | None,
) -> dict[str, Any]:
    """SimulatePrincipalPolicy's parameters: every destructive action on the bucket and on the real
    backup keys (every object under the prefix only when no key was listed).

    ``bucket_policy`` is passed as the resource policy when given (only for IAM users: AWS does not
    simulate resource policies for roles), with ``resource_owner`` when the bucket belongs to
    another account than the principal's. The API reference has described ResourceOwner both as
    an account id and as "an ARN representing the account ID"; drill sends the account root ARN
    and the caller retries with the bare id if AWS refuses it.
    """
    resources = [bucket_arn(bucket, partition), *_object_arns(bucket, prefix, partition, snapshot_keys)]
    request: dict[str, Any] = {
        "PolicySourceArn": principal_arn,
        "ActionNames": list(S3_DESTRUCTIVE),
        "ResourceArns": list(dict.fromkeys(resources)),
    }
    if bucket_policy is not None:
        request["ResourcePolicy"] = bucket_policy
        if resource_owner is not None:
            request["ResourceOwner"] = f"arn:{partition}:iam::{resource_owner}:root"
    return request


def _object_arns(bucket: str, prefix: str, partition: str, keys: Sequence[str]) -> list[str]:
    """The real backup keys; only when none was listed, every object under the prefix."""
    if keys:
        return [object_arn(bucket, unescape_name(key), partition) for key in keys]
    return [prefix_arn(bucket, prefix, partition)]


def compact_policy(policy: Mapping[str, Any]) -> str:
    """The bucket policy as the request carries it: the API caps its length, whitespace included."""
    return json.dumps(policy, separators=(",", ":"))


@dataclass(frozen=True)
class _Decision:
    resource: str
    decision: str
    missing_context: tuple[str, ...]


def _decisions(
    results: Sequence[Mapping[str, Any]], wanted: Mapping[str, set[str]]
) -> dict[str, list[_Decision]]:
    """Per action, the decision on each ARN it acts on, from either shape of the answer."""
    found: dict[str, list[_Decision]] = {}
    for result in results:
        action = str(result.get("EvalActionName", ""))
        arns = wanted.get(action)
        if arns is None:
            continue
        specific = [
            _Decision(
                str(item.get("EvalResourceName")),
                str(item.get("EvalResourceDecision", "")),
                tuple(item.get("MissingContextValues") or ()),
            )
            for item in result.get("ResourceSpecificResults") or ()
            if item.get("EvalResourceName") in arns
        ]
        name = str(result.get("EvalResourceName", "*"))
        top = _Decision(
            name, str(result.get("EvalDecision", "")), tuple(result.get("MissingContextValues") or ())
        )
        if specific:
            found.setdefault(action, []).extend(specific)
        elif name in arns or (name == "*" and not result.get("ResourceSpecificResults")):
            # The older shape names the resource at the top; "*" means it was simulated for all.
            found.setdefault(action, []).append(top)
    return found


def answers_from_simulation(
    response: Mapping[str, Any],
    bucket: str,
    prefix: str,
    *,
    partition: str = "aws",
    snapshot_keys: Sequence[str] = (),
    simulated: Simulated | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
) -> dict[str, PermissionAnswer]:
    """One answer per simulated action, read from SimulatePrincipalPolicy's response (its pages'
    ``EvaluationResults`` joined).

    An object action is allowed when it is allowed on any of the object ARNs; denied only when it
    is denied on all of them. A decision is not final when the simulation could not see everything
    AWS would weigh: the bucket policy left out (a role, or a policy drill could not read), context
    keys the simulation lacked, or an ACL that may grant objects to others. Then the bucket's own
    ``verdicts`` (see ``bucket_verdicts``) settle what they can, and the rest is UNKNOWN with why,
    so that a weaker source may answer. Without ``simulated``, the simulation is taken to have
    included the bucket policy, in the bucket owner's account.
    """
    simulated = simulated or Simulated(resource_policy_included=True, cross_account=False)
    bucket_resource = bucket_arn(bucket, partition)
    objects = set(_object_arns(bucket, prefix, partition, snapshot_keys))
    wanted = {
        action: (objects if action in S3_OBJECT_PERMISSIONS else {bucket_resource})
        for action in S3_DESTRUCTIVE
    }
    decisions = _decisions(list(response.get("EvaluationResults") or ()), wanted)
    answers: dict[str, PermissionAnswer] = {}
    for action, found in decisions.items():
        verdict = verdicts.get(action) if verdicts is not None else None
        answer, detail = _judge(found, verdict, simulated)
        answers[action] = PermissionAnswer(action, answer, EvidenceSource.SIMULATION, detail)
    return answers


def _judge(found: list[_Decision], verdict: Verdict | None, simulated: Simulated) -> tuple[Answer, str]:
    allowed = [item for item in found if item.decision == ALLOWED]
    scope = "" if simulated.resource_policy_included else " (identity policies only)"
    if allowed:
        where = allowed[0].resource
        if not simulated.resource_policy_included and (
            verdict is Verdict.DENIES or (simulated.cross_account and verdict is Verdict.SILENT)
        ):
            # The bucket policy the simulation could not include settles it (see resource_policy_answers).
            return Answer.UNKNOWN, f"simulation{scope} allows it on {where}, but the bucket policy decides"
        return Answer.ALLOWED, f"SimulatePrincipalPolicy{scope} on {where}: allowed"
    if found and all(item.decision == EXPLICIT_DENY for item in found):
        return Answer.DENIED, f"SimulatePrincipalPolicy{scope} on {found[0].resource}: explicitDeny"
    where = ", ".join(item.resource for item in found)
    decided = ", ".join(sorted({item.decision for item in found}))
    missing = sorted(
        {key for item in found if item.decision != EXPLICIT_DENY for key in item.missing_context}
    )
    if missing:
        return (
            Answer.UNKNOWN,
            f"simulation on {where}: {decided}, but it depends on context keys drill did not supply "
            f"({', '.join(missing)})",
        )
    if simulated.cross_account and not simulated.resource_policy_included:
        # Another account needs its own identity policies to allow it, whatever the bucket grants.
        return Answer.DENIED, f"SimulatePrincipalPolicy{scope} on {where}: {decided}"
    # ACLs are never simulated; with the policy read, an unread verdict is the ACL's.
    if verdict is Verdict.ACL_GRANTS or (simulated.resource_policy_included and verdict is Verdict.UNREAD):
        return (
            Answer.UNKNOWN,
            f"simulation on {where}: {decided}, but the bucket ACL, which is not simulated, may grant it",
        )
    if simulated.resource_policy_included or verdict in (Verdict.SILENT, Verdict.DENIES):
        # In the same account, a bucket policy that grants nothing cannot make up for the identity policies.
        return Answer.DENIED, f"SimulatePrincipalPolicy{scope} on {where}: {decided}"
    reason = "could not be read" if verdict in (None, Verdict.UNREAD) else "may grant it"
    return (
        Answer.UNKNOWN,
        f"simulation{scope} on {where}: {decided}, but the bucket policy, which it could not include, {reason}",
    )
