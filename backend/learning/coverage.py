"""Coverage: the set of unique milliseconds of a video actually played, kept as merged [start, end) intervals."""

from __future__ import annotations

Interval = list[int]  # [start_ms, end_ms)


def add_interval(intervals: list[Interval], start: int, end: int) -> list[Interval]:
    if end <= start:
        return [list(i) for i in intervals]
    merged: list[Interval] = []
    placed = False
    for lo, hi in sorted(intervals):
        if hi < start or lo > end:
            if lo > end and not placed:
                merged.append([start, end])
                placed = True
            merged.append([lo, hi])
        else:
            start, end = min(lo, start), max(hi, end)
    if not placed:
        merged.append([start, end])
    return sorted(merged)


def total(intervals: list[Interval]) -> int:
    return sum(hi - lo for lo, hi in intervals)


def furthest(intervals: list[Interval]) -> int:
    return max((hi for _, hi in intervals), default=0)


def contains(intervals: list[Interval], point: int, slack: int = 0) -> bool:
    return any(lo - slack <= point <= hi + slack for lo, hi in intervals)


def clip(intervals: list[Interval], length: int) -> list[Interval]:
    """The first `length` milliseconds of `intervals` (from the start of the video)."""
    clipped: list[Interval] = []
    for lo, hi in sorted(intervals):
        if length <= 0:
            break
        clipped.append([lo, min(hi, lo + length)])
        length -= hi - lo
    return clipped
