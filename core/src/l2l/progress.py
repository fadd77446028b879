"""Progress display: a live status line on a terminal, plain log lines otherwise.

Generations are numbered from 0, as ``l2l show``, the exports, the store and the hooks number
them; the count in parentheses says how far the run is (``generation 9 (10 of 15)``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .evaluation import Evaluation, Individual, Objectives


def generation_text(generation: int, total: int) -> str:
    """``generation 9 (10 of 15)``: the generation's number and how far the run is."""
    return f"generation {generation} ({generation + 1} of {total})"


class ProgressDisplay:
    """Shows generation, evaluations done/failed, best fitness and time per generation."""

    def __init__(self, generations: int, objectives: Objectives, stream: TextIO | None = None,
                 live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.generations = generations
        self.objectives = objectives
        self.failed = 0
        self.best: float | None = None
        self._last = 0.0
        self._every = 0
        self._started: float | None = None

    def _best_text(self) -> str:
        if self.best is None:
            return "best -"
        if len(self.objectives) == 1:  # show the fitness itself, not the signed loss
            value = self.best * float(self.objectives.signs[0])
            return f"best {self.objectives.names[0]} {value:.6g}"
        return f"best loss {self.best:.6g}"

    def evaluation(self, generation: int, done: int, total: int, ev: Evaluation) -> None:
        self.failed += 0 if ev.ok else 1
        now = time.monotonic()
        if self.live and (now - self._last > 0.1 or done == total):
            self._last = now
            self.stream.write(f"\r\x1b[2K{generation_text(generation, self.generations)}  "
                              f"evaluations {done}/{total} ({self.failed} failed)  "
                              f"{self._best_text()}")
            self.stream.flush()

    def completion(self, done: int, total: int, in_flight: int, ev: Evaluation,
                   best_loss: float | None, utilisation: float) -> None:
        """Async mode: one evaluation told. A live line, or a log line every twentieth of the
        budget: done/total, failures, in flight, worker utilisation, evaluations per second."""
        now = time.monotonic()
        if self._started is None:
            self._started = now
            self._every = max(1, total // 20)
        self.failed += 0 if ev.ok else 1
        self.best = best_loss
        rate = done / (now - self._started) if now > self._started else 0.0
        text = (f"async: evaluations {done}/{total} ({self.failed} failed), {in_flight} in flight,"
                f" utilisation {utilisation:.2f}, {rate:.3g}/s, {self._best_text()}")
        if self.live:
            if now - self._last > 0.1 or done == total:
                self._last = now
                self.stream.write(f"\r\x1b[2K{text}" + ("\n" if done == total else ""))
                self.stream.flush()
        elif done % self._every == 0 or done == total:
            self.stream.write(text + "\n")
            self.stream.flush()

    def generation(self, generation: int, individuals: list[Individual], best_loss: float | None,
                   seconds: float) -> None:
        self.best = best_loss
        failed = sum(not i.evaluation.ok for i in individuals)
        line = (f"{generation_text(generation, self.generations)}: {len(individuals)} evaluations, "
                f"{failed} failed, {self._best_text()}, {seconds:.3g} s")
        self.failed = 0
        self.stream.write(("\r\x1b[2K" if self.live else "") + line + "\n")
        self.stream.flush()
