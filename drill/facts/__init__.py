"""What drill observed, as plain frozen data: no I/O happens here, and checks read nothing else.

One module per subject: ``storage`` (snapshot listings per database and target), ``posture``
(how a bucket or an object is protected), ``restore`` (what a drill did and found), ``trust``
(what credentials could do to a bucket), ``agents`` (what an agent's files expose), and
``collected`` (all of one run's facts). ``base`` says how a missing fact reads: ``Unavailable``
with its reason, turned into ``FactUnavailable`` by ``known()``.
"""

from drill.facts.agents import AgentFacts, CredentialSighting, Exposure, ScanStats, SightingKind
from drill.facts.base import NOT_COLLECTED, Subject, known
from drill.facts.baseline import (
    ApprovedBaseline,
    BaselineState,
    DriftFacts,
    MissingBaseline,
    Record,
    UnusableBaseline,
)
from drill.facts.collected import CollectedFacts
from drill.facts.pgbackrest import (
    RepoSettings,
    RepositoryFacts,
    Retention,
    StanzaBackup,
    StanzaRepo,
    WalArchive,
    WalRange,
)
from drill.facts.posture import (
    BucketPosture,
    DocumentDigest,
    FilesystemPosture,
    GcsBucketPosture,
    LifecycleRule,
    ObjectProtection,
    S3BucketPosture,
    Sidecar,
)
from drill.facts.restore import (
    DrillOutcome,
    IndexVerdict,
    PageChecksums,
    PreviousDrill,
    QueryVerdict,
    RestoreFacts,
    SequenceVerdict,
    TableRows,
    Timings,
    Verification,
    WalReplay,
)
from drill.facts.storage import DatabaseFacts, DatabaseTargetFacts, SnapshotListing, TargetFacts, full_pattern
from drill.facts.trust import (
    Access,
    AgentTargetFacts,
    Answer,
    EvidenceSource,
    Identity,
    PermissionAnswer,
    VerifierTargetFacts,
)
from drill.model import FactUnavailable, Unavailable

__all__ = [
    "NOT_COLLECTED",
    "Access",
    "AgentFacts",
    "AgentTargetFacts",
    "Answer",
    "ApprovedBaseline",
    "BaselineState",
    "BucketPosture",
    "CollectedFacts",
    "CredentialSighting",
    "DatabaseFacts",
    "DatabaseTargetFacts",
    "DocumentDigest",
    "DriftFacts",
    "DrillOutcome",
    "EvidenceSource",
    "Exposure",
    "FactUnavailable",
    "FilesystemPosture",
    "GcsBucketPosture",
    "Identity",
    "IndexVerdict",
    "LifecycleRule",
    "MissingBaseline",
    "ObjectProtection",
    "PageChecksums",
    "PermissionAnswer",
    "PreviousDrill",
    "QueryVerdict",
    "Record",
    "RepoSettings",
    "RepositoryFacts",
    "RestoreFacts",
    "Retention",
    "S3BucketPosture",
    "ScanStats",
    "SequenceVerdict",
    "Sidecar",
    "SightingKind",
    "SnapshotListing",
    "StanzaBackup",
    "StanzaRepo",
    "Subject",
    "TableRows",
    "TargetFacts",
    "Timings",
    "Unavailable",
    "UnusableBaseline",
    "Verification",
    "VerifierTargetFacts",
    "WalArchive",
    "WalRange",
    "WalReplay",
    "full_pattern",
    "known",
]
