"""Learn the backup credentials from the config: what every target's credentials table names."""

from __future__ import annotations

from collections.abc import Mapping

from drill.config import Config, Target, TargetType
from drill.facts import SightingKind
from drill.trust.exposure.aws import learn_aws
from drill.trust.exposure.gcp import learn_service_account
from drill.trust.exposure.known import KnownCredentials, Learner


def known_credentials(config: Config, environ: Mapping[str, str]) -> KnownCredentials:
    """The credentials of every target (the backup credentials), as values and files to look for.

    A variable that is not set or a file that cannot be read is simply not known: the config layer
    reports those, and the scan must still run with what is known.
    """
    learner = Learner()
    for target in config.targets:
        learn_aws(learner, target.credentials, environ, target.name)
        if target.credentials.service_account_file:
            learn_service_account(learner, target.credentials.service_account_file, target.name)
        if target.type is TargetType.PGBACKREST:
            _learn_stanza(learner, target, environ)
    return learner.build()


# Of pgBackRest's secure options, the ones that name rather than authorise (an S3 access key id).
_IDENTIFIERS = frozenset({"s3-key", "azure-account"})


def _learn_stanza(learner: Learner, target: Target, environ: Mapping[str, str]) -> None:
    """The stanza's secure options (cipher passphrase, repository keys), from its config and
    pgBackRest's variables: an agent that holds one can read or destroy the repository."""
    from drill.storage.pgbackrest.conf import ConfigUnreadable, read_stanza_config  # noqa: PLC0415

    assert target.stanza is not None  # validated with the config
    try:
        stanza = read_stanza_config(target.stanza, target.config, environ)
    except ConfigUnreadable:
        return  # the storage collection reports it; the scan runs with what is known
    for repo, option, value in stanza.secrets:
        if option == "gcs-key":  # a path to the service account's key file, not a secret itself
            learn_service_account(learner, value, target.name)
            continue
        kind = SightingKind.KNOWN_KEY_ID if option in _IDENTIFIERS else SightingKind.KNOWN_SECRET
        learner.value(value, kind, f"pgBackRest repo{repo}-{option} (stanza {target.stanza})", target.name)
