"""Stopping criteria: plain callables (best_cost) -> bool that compose, as in pyvrp.stop; Cancel is one of them."""

from __future__ import annotations

import time
from typing import Callable

from core.progress import Progress

StopCriterion = Callable[[float], bool]


class MaxRuntime:
    """Stop once this many seconds have passed since the first call."""

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.seconds = seconds
        self._start: float | None = None

    def __call__(self, best_cost: float) -> bool:
        if self._start is None:
            self._start = time.perf_counter()
        return time.perf_counter() - self._start > self.seconds

    def __or__(self, other: StopCriterion) -> "FirstOf":
        return FirstOf(self, other)


class NoImprovement:
    """Stop after this many iterations without a better plan."""

    def __init__(self, iterations: int) -> None:
        self.iterations = iterations
        self._best: float | None = None
        self._count = 0

    def __call__(self, best_cost: float) -> bool:
        if self._best is None or best_cost < self._best:
            self._best, self._count = best_cost, 0
        else:
            self._count += 1
        return self._count >= self.iterations

    def __or__(self, other: StopCriterion) -> "FirstOf":
        return FirstOf(self, other)


class MaxIterations:
    """Stop after this many iterations: unlike a time limit, the same seed then gives the same plan on any machine."""

    def __init__(self, iterations: int) -> None:
        if iterations < 1:
            raise ValueError("iterations must be >= 1")
        self.iterations = iterations
        self._count = 0

    def __call__(self, best_cost: float) -> bool:
        self._count += 1
        return self._count > self.iterations

    def __or__(self, other: StopCriterion) -> "FirstOf":
        return FirstOf(self, other)


class CancelRequested:
    """Stop when the user pressed Cancel (a core Progress) — solve then returns the best plan found so far.

    Also reports elapsed time to the progress when given a time budget, since the engine has no other hook.
    """

    def __init__(self, progress: Progress | None, budget_seconds: float | None = None) -> None:
        self.progress = progress
        self.budget = budget_seconds
        self.triggered = False
        self._start = time.perf_counter()
        self._last_report = 0.0

    def __call__(self, best_cost: float) -> bool:
        if self.progress is None:
            return False
        now = time.perf_counter()
        if self.budget and now - self._last_report > 0.2:
            self._last_report = now
            done = min(self.budget, now - self._start)
            self.progress.update(int(done * 10), int(self.budget * 10), f"Optimising… {done:.0f}/{self.budget:.0f} s")
        if self.progress.cancelled():
            self.triggered = True
        return self.triggered

    def __or__(self, other: StopCriterion) -> "FirstOf":
        return FirstOf(self, other)


class FirstOf:
    """Stop as soon as any of the criteria says so (every criterion is still called, so each keeps its clock)."""

    def __init__(self, *criteria: StopCriterion) -> None:
        self.criteria = criteria

    def __call__(self, best_cost: float) -> bool:
        hits = [c(best_cost) for c in self.criteria]
        return any(hits)

    def __or__(self, other: StopCriterion) -> "FirstOf":
        return FirstOf(*self.criteria, other)


def default_stop(num_stops: int, seconds: float | None = None) -> StopCriterion:
    """A time limit that grows with the problem, plus an early exit once the plan stops improving."""
    # A day of 25 stops must come back within a second (issue #6); a week of 70 gets ~2 s.
    limit = seconds if seconds is not None else min(30.0, 0.25 + num_stops * 0.025)
    return FirstOf(MaxRuntime(limit), NoImprovement(max(300, 20 * num_stops)))
