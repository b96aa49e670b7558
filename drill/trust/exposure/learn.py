"""Learn the backup credentials from the config: what every target's credentials table names."""

from __future__ import annotations

from collections.abc import Mapping

from drill.config import Config
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
    return learner.build()
