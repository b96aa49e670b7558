"""Loading the baseline file: missing, unreadable, tampered or approved; and the subjects paired."""

from __future__ import annotations

from pathlib import Path

from drill.baseline import codec
from drill.collect.baseline import drift_subjects, load_baseline
from drill.config import Agent, BaselineSettings, Config, ReportSettings
from drill.facts import ApprovedBaseline, CollectedFacts, MissingBaseline, UnusableBaseline
from tests import factories
from tests.drift_records import NOW, orders, vault
from tests.drift_records import baseline as approved


def _config(tmp_path: Path, **baseline: object) -> Config:
    return Config(report=ReportSettings(dir=str(tmp_path)), baseline=BaselineSettings(**baseline))  # type: ignore[arg-type]


def test_a_missing_file_is_missing_and_says_whether_one_is_required(tmp_path: Path) -> None:
    assert load_baseline(_config(tmp_path)) == MissingBaseline(
        str(tmp_path / "baseline.json"), required=False
    )
    assert load_baseline(_config(tmp_path, required=True)).required  # type: ignore[union-attr]


def test_an_approved_file_loads_with_the_digest_of_its_bytes(tmp_path: Path) -> None:
    text = codec.render(approved(vault()).baseline)
    (tmp_path / "kept.json").write_text(text)
    state = load_baseline(_config(tmp_path, path=str(tmp_path / "kept.json")))
    assert isinstance(state, ApprovedBaseline)
    assert state.sha256 == codec.file_sha256(text.encode()) and state.baseline == approved(vault()).baseline


def test_a_tampered_file_is_unusable_with_its_digest(tmp_path: Path) -> None:
    (tmp_path / "baseline.json").write_text(
        codec.render(approved(vault()).baseline).replace("alice", "mallory")
    )
    state = load_baseline(_config(tmp_path))
    assert isinstance(state, UnusableBaseline) and state.sha256 is not None
    assert "does not match the SHA-256" in state.problem


def test_a_file_that_cannot_be_read_is_unusable_without_a_digest(tmp_path: Path) -> None:
    (tmp_path / "baseline.json").mkdir()
    state = load_baseline(_config(tmp_path))
    assert isinstance(state, UnusableBaseline) and state.sha256 is None and "cannot be read" in state.problem


def test_subjects_left_out_of_a_narrowed_run_are_not_judged_dropped(tmp_path: Path) -> None:
    # The baseline names vault, offsite and orders; today's config still has vault and offsite, but
    # this run collected nothing (--database named another database): nothing was looked at.
    config = Config(
        report=ReportSettings(dir=str(tmp_path)),
        targets=(factories.target("vault"), factories.target("offsite")),
        databases=(factories.database("orders", ("vault", "offsite")),),
        agents=(Agent(name="ci"),),
    )
    state = approved(vault(), vault(name="offsite"), orders())
    subjects = drift_subjects(config, CollectedFacts((), (), ()), state, NOW)
    assert [
        (facts.approved, facts.today)
        for facts in subjects
        if facts.approved and facts.approved.noun != "Agent"
    ] == []


def test_without_a_usable_baseline_there_is_one_subject(tmp_path: Path) -> None:
    state = MissingBaseline(str(tmp_path / "baseline.json"), required=False)
    [subject] = drift_subjects(_config(tmp_path), CollectedFacts((), (), ()), state, NOW)
    assert subject.state is state and subject.approved is None and subject.today is None
