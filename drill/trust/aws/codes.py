"""What an AWS error answer says: its code, its HTTP status, and which codes mean what to drill."""

from __future__ import annotations

from botocore.exceptions import ClientError

DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled"})
# What S3 answers an authorized request about a key or a version that does not exist.
ABSENT_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "InvalidArgument", "InvalidRequest"})
NOT_IMPLEMENTED_CODES = frozenset({"500", "501", "InternalError", "InternalFailure", "NotImplemented"})


def code_of(error: ClientError) -> str:
    return str(
        error.response.get("Error", {}).get("Code")
        or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    )


def status_of(error: ClientError) -> str:
    """``403 AccessDenied``: the HTTP status and the code, or the code alone when they are the same."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = code_of(error)
    return f"{status} {code}" if status and str(status) != code else code
