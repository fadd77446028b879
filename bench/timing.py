"""Small timing helpers shared by the benches: per-generation wall times of an l2l run, CPU
seconds of this process and of its finished children, the pair-wise ratio of side-by-side runs.
"""

from __future__ import annotations

import resource
import statistics
import time
from dataclasses import dataclass, field


class GenerationTimes:
    """An l2l ``Progress`` that keeps the wall seconds of each generation."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def evaluation(self, generation, done, total, ev) -> None:
        pass

    def generation(self, generation, individuals, best_loss, seconds) -> None:
        self.seconds.append(seconds)

    def steady(self) -> float:
        """Median seconds of the generations after the first (which carries start-up costs)."""
        rest = self.seconds[1:] or self.seconds
        return statistics.median(rest)


def cpu_self() -> float:
    """CPU seconds (user + system) of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclass
class Clock:
    """Wall and CPU seconds of a block: ``with Clock() as c: ...; c.wall, c.cpu, c.children``."""

    wall: float = 0.0
    cpu: float = 0.0
    children: float = 0.0
    _start: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)

    def __enter__(self) -> Clock:
        self._start = (time.perf_counter(), cpu_self(), cpu_children())
        return self

    def __exit__(self, *exc: object) -> None:
        w, c, ch = self._start
        self.wall = time.perf_counter() - w
        self.cpu = cpu_self() - c
        self.children = cpu_children() - ch


def spread(values: list[float]) -> str:
    """``median (min-max)`` of a few side-by-side ratios, or the single value."""
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"
