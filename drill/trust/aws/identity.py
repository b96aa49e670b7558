"""Who a set of AWS credentials is, by sts:GetCallerIdentity, which needs no permission."""

from __future__ import annotations

from collections.abc import Mapping

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import SessionCache, client, identity_endpoints
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials, Target
from drill.facts import Identity
from drill.model import Unavailable
from drill.trust.aws.codes import code_of, status_of

_REFUSED_CREDENTIALS = {
    "InvalidClientTokenId": "the access key id does not exist",
    "SignatureDoesNotMatch": "the secret access key does not match the access key id",
    "ExpiredToken": "the session token has expired",
    "ExpiredTokenException": "the session token has expired",
    "InvalidAccessKeyId": "the access key id does not exist",
}


def _described(credentials: Credentials) -> str:
    """Where the credentials come from, by name only: never a value."""
    if credentials.access_key_id_env:
        return f"the keys in {credentials.access_key_id_env} and {credentials.secret_access_key_env}"
    if credentials.profile or credentials.credentials_file:
        where = f" in {credentials.credentials_file}" if credentials.credentials_file else ""
        return f"profile {credentials.profile or 'default'!r}{where}"
    return "the SDK's default credential chain (environment, shared files, web identity, instance role)"


def caller_identity(
    credentials: Credentials,
    target: Target,
    environ: Mapping[str, str],
    sessions: SessionCache | None = None,
) -> Identity:
    """Who the credentials are, by sts:GetCallerIdentity (which needs no permission).

    Raises StorageError: INVALID when a named variable or profile does not exist (the message names
    it, never a value) or no credentials are found; ACCESS_DENIED when AWS refuses the credentials;
    TRANSIENT when the endpoint cannot be reached.
    """
    session = (sessions or SessionCache(environ)).get(credentials, target.region)
    return session_identity(session, target, credentials)


def session_identity(session: boto3.Session, target: Target, credentials: Credentials) -> Identity:
    who = _described(credentials)
    endpoints = identity_endpoints(target)
    if not endpoints.sts_available:
        raise StorageError(
            StorageErrorKind.UNSUPPORTED,
            f"{target.name}'s endpoint is not AWS and no sts_endpoint_url is set: the store has no "
            "identity API drill knows, so who the credentials are is unknown.",
        )
    sts = client(session, "sts", endpoints.sts, target.region, max_attempts=2)
    try:
        answer = sts.get_caller_identity()
    except NoCredentialsError:
        raise StorageError(
            StorageErrorKind.INVALID,
            f"sts:GetCallerIdentity found no AWS credentials in {who}; name a profile or key variables.",
        ) from None
    except ClientError as error:
        code = code_of(error)
        meaning = _REFUSED_CREDENTIALS.get(code, "AWS refused the request")
        raise StorageError(
            StorageErrorKind.ACCESS_DENIED,
            f"sts:GetCallerIdentity refused {who}: {status_of(error)} ({meaning}).",
        ) from None
    except (BotoCoreError, ResponseParserError) as error:
        raise StorageError(
            StorageErrorKind.TRANSIENT,
            f"sts:GetCallerIdentity for {who} failed: {type(error).__name__}.",
        ) from None
    finally:
        sts.close()
    return Identity("aws", answer["Account"], answer["Arn"], "sts:GetCallerIdentity")


def attempt_identity(
    session: boto3.Session, target: Target, credentials: Credentials, gaps: list[str], *, whose: str
) -> Identity | Unavailable:
    """The identity, or Unavailable with the reason, which also becomes one of ``gaps``."""
    try:
        return session_identity(session, target, credentials)
    except StorageError as error:
        gaps.append(f"{whose} identity: {error}")
        return Unavailable(str(error))
