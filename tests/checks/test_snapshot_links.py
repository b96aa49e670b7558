from dataclasses import replace

from drill.checks.snapshot_links import LinksEvidence, NotAFilesystemEvidence, snapshot_links
from drill.config import TargetType
from drill.engine import evaluate
from drill.facts import Unavailable
from drill.model import EntryKind, Status, UnfollowedEntry
from tests import factories

SPEC = snapshot_links.__drill_check__  # type: ignore[attr-defined]
NAS = factories.target("nas", type=TargetType.FILESYSTEM)


def _judged(*entries: UnfollowedEntry, total: int | None = None) -> tuple[Status, str, LinksEvidence]:
    found = replace(
        factories.listing(factories.snapshot()),
        unfollowed=entries,
        unfollowed_count=len(entries) if total is None else total,
    )
    [finding] = evaluate(SPEC, factories.database_target_facts(found, target_model=NAS))
    assert isinstance(finding.evidence, LinksEvidence)
    return finding.status, finding.message, finding.evidence


def test_a_directory_without_links_passes() -> None:
    status, message, evidence = _judged()

    assert status is Status.PASS
    assert "No symbolic link" in message and evidence.total == 0


def test_a_prefix_directory_linking_out_of_the_target_fails_naming_where_it_points() -> None:
    status, message, evidence = _judged(
        UnfollowedEntry("pg", EntryKind.DIRECTORY_LINK, "/srv/other-system", leaves_target=True)
    )

    assert status is Status.FAIL
    assert "pg is a symbolic link to a directory (/srv/other-system)" in message
    assert "outside the directory of target nas" in message and "not a copy" in message
    assert evidence.leaving == 1
    assert evidence.entries[0].destination == "/srv/other-system"


def test_a_snapshot_linking_out_fails_even_beside_links_that_stay_inside() -> None:
    inside = UnfollowedEntry("orders/latest.dump", EntryKind.FILE_LINK, "orders-1.dump")
    outside = UnfollowedEntry("orders/orders-2.dump", EntryKind.FILE_LINK, "/etc/shadow", leaves_target=True)

    status, message, _ = _judged(inside, outside)

    assert status is Status.FAIL
    assert "orders/orders-2.dump" in message and "orders/latest.dump" not in message


def test_links_that_stay_inside_the_target_warn_rather_than_pass_in_silence() -> None:
    status, message, evidence = _judged(
        UnfollowedEntry("orders/latest.dump", EntryKind.FILE_LINK, "orders-1.dump"),
        UnfollowedEntry("orders/pipe.dump", EntryKind.SPECIAL_FILE),
    )

    assert status is Status.WARN
    assert "orders/latest.dump is a symbolic link to a file (orders-1.dump)" in message
    assert "orders/pipe.dump is not a regular file" in message
    assert "counts once, where it is" in message
    assert evidence.total == 2 and evidence.leaving == 0


def test_many_links_are_counted_beyond_those_named() -> None:
    entries = [
        UnfollowedEntry(f"orders/{index}.dump", EntryKind.FILE_LINK, f"/x/{index}", leaves_target=True)
        for index in range(20)
    ]

    status, message, evidence = _judged(*entries, total=250)

    assert status is Status.FAIL
    assert "and 17 more" in message
    assert evidence.total == 250 and len(evidence.entries) == 20


def test_an_object_store_target_is_skipped() -> None:
    [finding] = evaluate(SPEC, factories.database_target_facts(factories.listing(factories.snapshot())))

    assert finding.status is Status.SKIPPED
    assert isinstance(finding.evidence, NotAFilesystemEvidence)


def test_an_unreadable_listing_is_an_error() -> None:
    facts = factories.database_target_facts(
        Unavailable("Cannot read /srv/nas: permission denied."), target_model=NAS
    )

    [finding] = evaluate(SPEC, facts)

    assert finding.status is Status.ERROR
    assert "permission denied" in finding.message
