from backend.learning import coverage
from backend.learning.coverage import add_interval, contains, furthest, total


def test_overlapping_segments_merge_into_unique_seconds() -> None:
    ivs = add_interval([], 0, 10_000)
    ivs = add_interval(ivs, 5_000, 15_000)
    assert ivs == [[0, 15_000]]
    assert total(ivs) == 15_000


def test_rewatching_adds_no_coverage() -> None:
    ivs = add_interval([[0, 20_000]], 2_000, 8_000)
    assert total(ivs) == 20_000


def test_separate_segments_stay_apart_and_bridge_when_filled() -> None:
    ivs = add_interval(add_interval([], 0, 1_000), 5_000, 6_000)
    assert ivs == [[0, 1_000], [5_000, 6_000]]
    assert furthest(ivs) == 6_000
    assert not contains(ivs, 3_000)
    assert add_interval(ivs, 1_000, 5_000) == [[0, 6_000]]


def test_empty_or_backward_segment_changes_nothing() -> None:
    assert add_interval([[0, 5]], 7, 7) == [[0, 5]]
    assert add_interval([[0, 5]], 9, 7) == [[0, 5]]


def test_clip_keeps_the_first_milliseconds_in_video_order() -> None:
    assert coverage.clip([[5000, 8000], [0, 2000]], 3000) == [[0, 2000], [5000, 6000]]
    assert coverage.clip([[0, 2000]], 0) == [] and coverage.clip([[0, 2000]], 9000) == [[0, 2000]]
