"""In-process execution: the simplest executor and the reference for determinism."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Sequence

from ..evaluation import Evaluation
from ..executor import Executor, Task, run_tasks
from ..optimizee import Optimizee


class SerialExecutor(Executor):
    """Evaluates in the coordinating process, one chunk after another.

    Exceptions and NaNs become failed evaluations; a hanging or crashing evaluation cannot be
    contained in-process (use the ``process`` executor for that). ``batch`` forces (True) or
    disables (False) the optimizee's batch path; None uses it when offered.
    """

    def __init__(self, batch: bool | None = None):
        self.batch = batch
        self.workers = 1

    def start(self, optimizee: Optimizee) -> None:
        optimizee.setup()
        self._optimizee = optimizee

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        fut: Future[list[Evaluation]] = Future()
        fut.set_result(run_tasks(self._optimizee, tasks, self.batch))
        return fut

    def close(self) -> None:
        if getattr(self, "_optimizee", None) is not None:
            self._optimizee.teardown()
            self._optimizee = None  # type: ignore[assignment]
