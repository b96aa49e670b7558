import pytest

from drill.storage.pgbackrest.wal import (
    Segment,
    holds_between,
    log_directory,
    missing_between,
    parse_lsn,
    parse_segment,
    segment_size_of,
)

MIB16 = 16 << 20


def test_segment_names_round_trip_across_a_log_boundary() -> None:
    segment = parse_segment("0000000100000001000000FF", MIB16)
    assert segment == Segment(1, 511)
    assert Segment(1, 512).name(MIB16) == "000000010000000200000000"


def test_a_segment_number_beyond_the_log_is_refused() -> None:
    with pytest.raises(ValueError, match="byte segments"):
        parse_segment("000000010000000000000100", MIB16)


def test_the_segment_size_is_inferred_from_a_backups_start() -> None:
    assert segment_size_of("0/4000028", "000000010000000000000004") == MIB16
    assert segment_size_of("0/40000028", "000000010000000000000001") == 1 << 30
    assert segment_size_of("not an lsn", "000000010000000000000004") is None


def test_missing_segments_are_named_and_counted() -> None:
    present = [Segment(1, number) for number in (4, 5, 7, 9)]
    missing, count = missing_between(present, Segment(1, 4), Segment(1, 9))
    assert [segment.name(MIB16) for segment in missing] == [
        "000000010000000000000006",
        "000000010000000000000008",
    ]
    assert count == 2


def test_a_later_timeline_fills_a_number() -> None:
    present = [Segment(1, 4), Segment(2, 5), Segment(2, 6)]
    assert missing_between(present, Segment(1, 4), Segment(2, 6)) == ((), 0)


def test_a_crafted_far_name_does_not_make_the_work_grow() -> None:
    missing, count = missing_between([Segment(1, 0)], Segment(1, 0), Segment(1, 10**12), keep=3)
    assert len(missing) == 3 and count == 10**12


def test_archive_directories_are_recognised_and_bounded() -> None:
    assert log_directory("0000000100000002") == (1, 2)
    assert log_directory("archive.info") is None
    assert holds_between((1, 0), Segment(1, 4), Segment(1, 9), MIB16)
    assert not holds_between((1, 3), Segment(1, 4), Segment(1, 9), MIB16)
    assert parse_lsn("1/0") == 1 << 32
