"""An executor on a ``concurrent.futures`` process pool: the shape of every cluster executor."""

from __future__ import annotations

import multiprocessing
import pickle
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from l2l import ConfigError, Evaluation, Executor, Optimizee, Task, run_tasks
from l2l.executor import default_chunk_size, min_batch, prepared


def run_chunk(token: str, payload: bytes, tasks: list[Task]) -> list[Evaluation]:
    """Runs on a worker: set the run's optimizee up once (``prepared`` caches it per token and
    raises SetupError if ``setup()`` fails), then evaluate; failures come back as data."""
    optimizee = prepared(token, loader=lambda: pickle.loads(payload))
    return run_tasks(optimizee, tasks)


class PoolExecutor(Executor):
    """``workers`` processes; each sets the optimizee up on its first chunk of a run.

    ``chunk``: tasks sent together (None: the default sizing of l2l's executors).
    A worker that crashes breaks this pool (the run fails); l2l's ``process`` executor
    replaces it instead and records only that evaluation as failed.
    """

    _pool: ProcessPoolExecutor | None = None

    def __init__(self, workers: int = 2, chunk: int | None = None):
        self.workers = workers
        self.chunk = chunk

    def start(self, optimizee: Optimizee) -> None:
        if int(self.workers) < 1:
            raise ConfigError(f"pool executor: workers must be at least 1, got {self.workers}")
        self._token = uuid.uuid4().hex  # names this run in the workers' cache
        self._payload = pickle.dumps(optimizee)  # sent with every chunk: workers may come and go
        self._batch, self._least = optimizee.has_batch(), min_batch(optimizee)
        self._pool = ProcessPoolExecutor(int(self.workers),
                                         mp_context=multiprocessing.get_context("forkserver"))

    def chunk_size(self, n_tasks: int) -> int:
        return default_chunk_size(n_tasks, int(self.workers), self._batch, self.chunk, self._least)

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        if self._pool is None:
            raise RuntimeError("start() the executor before submitting tasks")
        return self._pool.submit(run_chunk, self._token, self._payload, list(tasks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
