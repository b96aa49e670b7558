"""``drill demo``: a small backup estate built on this machine, drilled once, its report kept.

Nothing leaves the machine and nothing needs a cloud account: moto serves S3, IAM and STS on
127.0.0.1 inside this process, drill's own ``ScratchCluster`` builds two sample databases and
dumps them, and the estate is laid out so that the report shows both what good looks like and
the failures drill exists to find:

    account 123456789012  shop-backups-locked  Object Lock, COMPLIANCE 35 days   (immutable)
                          shop-backups-plain   no versioning, and an agent holds s3:* on it
    account 210987654321  shop-backups-vault   Object Lock, COMPLIANCE 35 days, another account
    filesystem            <sandbox>/nas        a copy on disk, in another failure domain

IAM users: ``drill-reader`` and ``drill-vault-reader`` (read-only, what drill runs as) and the
agent ``ci-deployer``. IAM enforcement is switched on only after every user, bucket and object
exists, because from then on moto honours nothing but its users' keys.

Everything started here is a context manager on one ExitStack, so on success, an exception or
Ctrl-C the sample cluster is stopped and deleted, moto's state and auth switch are reset and its
server stopped, and the sandbox directory is removed (unless ``keep_sandbox``). Only the report
directory ``out`` stays. Credentials live in a mapping handed to drill; they are never printed,
and ``os.environ`` is never touched.
"""

from drill.demo.errors import DemoError
from drill.demo.estate import MAIN_ACCOUNT, PLANTED_FAILURES, VAULT_ACCOUNT
from drill.demo.local_aws import local_aws
from drill.demo.runner import SANDBOX_PREFIX, DemoResult, run_demo

__all__ = [
    "MAIN_ACCOUNT",
    "PLANTED_FAILURES",
    "SANDBOX_PREFIX",
    "VAULT_ACCOUNT",
    "DemoError",
    "DemoResult",
    "local_aws",
    "run_demo",
]
