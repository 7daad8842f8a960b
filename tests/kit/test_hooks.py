"""Announcements between packages (backend/kit/hooks.py): the owner of the rule listens, nobody imports up."""

from __future__ import annotations

import pytest

from backend.kit.hooks import Hook


def test_listeners_hear_each_announcement_once_in_order() -> None:
    heard: list[tuple[str, int]] = []
    hook: Hook[[int]] = Hook("test.numbers")

    def first(n: int) -> None:
        heard.append(("first", n))

    hook.listen(first)
    hook.listen(lambda n: heard.append(("second", n)))
    hook.listen(first)  # added once only
    hook.announce(7)
    assert heard == [("first", 7), ("second", 7)]


def test_an_announcement_nobody_listens_to_is_a_wiring_error() -> None:
    with pytest.raises(RuntimeError, match="nobody listens to test.lonely"):
        Hook("test.lonely").announce()


def test_learning_decides_completion_when_quizzes_announce_a_result() -> None:
    import backend.app  # noqa: F401  - the app imports every package, as in production
    from backend.learning import service as learning
    from backend.quizzes import events

    assert events.result_changed._listeners == [learning.follow_completion]
