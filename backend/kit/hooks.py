"""In-process announcements, so that a lower package never imports a higher one (ARCHITECTURE.md).

The package where something happens announces it on a `Hook` it defines; the package that owns the rule which
depends on it listens, at import. Listeners run in the announcer's transaction, in the order they were added, and
their errors propagate as if they had been called directly. A hook that nobody listens to refuses to announce:
a missing listener is a wiring bug, not a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Hook(Generic[P]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[P, object]] = []

    def listen(self, listener: Callable[P, object]) -> Callable[P, object]:
        """Adds `listener` (once; usable as a decorator)."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def announce(self, *args: P.args, **kwargs: P.kwargs) -> None:
        if not self._listeners:
            raise RuntimeError(f"nobody listens to {self.name}: is the listening package imported?")
        for listener in list(self._listeners):
            listener(*args, **kwargs)
