from datetime import timedelta
from pathlib import Path

from drill.collect import collect, storage
from drill.config import Config, RunSettings, TargetType
from drill.facts import Unavailable
from tests import factories
from tests.helpers import AWS_CREDENTIALS, AWS_ENVIRON
from tests.silent import never_answering


def test_a_missing_directory_is_unavailable_with_its_path(tmp_path: Path) -> None:
    target = factories.target("fs", type=TargetType.FILESYSTEM, path=str(tmp_path / "gone"))
    config = Config(targets=(target,), databases=(factories.database(targets=("fs",)),))
    facts = collect(config, factories.NOW, environ={})
    [copy] = facts.database_targets
    assert isinstance(copy.listing, Unavailable)
    assert str(tmp_path / "gone") in copy.listing.reason


def test_a_target_shared_by_two_databases_is_judged_by_the_longest_retention(tmp_path: Path) -> None:

    target = factories.target("fs", type=TargetType.FILESYSTEM, path=str(tmp_path))
    short = factories.database("a", targets=("fs",), min_retention=timedelta(days=7))
    long = factories.database("b", targets=("fs",), min_retention=timedelta(days=90))
    facts = collect(Config(targets=(target,), databases=(short, long)), factories.NOW, environ={})
    [target_facts] = facts.targets
    assert target_facts.policy.min_retention == timedelta(days=90)
    assert len(facts.database_targets) == 2


def test_a_target_that_never_answers_ends_unavailable_at_the_run_timeout_and_the_others_are_read(
    tmp_path: Path,
) -> None:
    """An S3 endpoint that accepts connections and never answers (a socket server in the test) beside
    a directory: the directory is read, the bucket's facts say which read ran past [run] timeout."""
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders-1.dump").write_bytes(b"PGDMP")
    with never_answering() as silent:
        hung = factories.target(
            "vault", endpoint_url=silent.url, region="us-east-1", credentials=AWS_CREDENTIALS
        )
        nas = factories.target("nas", type=TargetType.FILESYSTEM, path=str(tmp_path))
        config = Config(
            targets=(hung, nas),
            databases=(factories.database(targets=("vault", "nas")),),
            run=RunSettings(timeout=timedelta(seconds=1)),
        )

        facts = storage.collect_storage(config, factories.NOW, environ=AWS_ENVIRON)

    by_target = {copy.target.name: copy for copy in facts.database_targets}
    listing = by_target["vault"].listing
    assert isinstance(listing, Unavailable)
    assert "Target vault did not answer within the run's timeout of 1s ([run] timeout)" in listing.reason
    assert "the listing of 'orders/*.dump'" in listing.reason
    [vault] = [target for target in facts.targets if target.target.name == "vault"]
    assert isinstance(vault.posture, Unavailable) and "did not answer" in vault.posture.reason
    nas_listing = by_target["nas"].listing
    assert not isinstance(nas_listing, Unavailable) and nas_listing.count == 1
