"""The ``dask`` executor: chunks of tasks run on a Dask cluster.

Without ``address`` a :class:`distributed.LocalCluster` is started (``workers`` single-threaded
worker processes on 127.0.0.1, no dashboard) and closed with the run; with
``address = "tcp://host:port"`` the executor connects to a running scheduler (for instance one
started by dask-jobqueue on Slurm) and leaves it running.

Tasks go in chunks (about four per worker) so that Dask's per-task cost (a few milliseconds)
is paid per chunk, not per evaluation. Each worker evaluates in a child process it supervises
(``isolate = true``): crashes and timeouts become failed evaluations and only that child is
replaced. If a whole Dask worker is lost, Dask re-runs its chunk elsewhere; a chunk that keeps
killing workers is split into single tasks, and a task that still does is recorded as failed.
"""

from __future__ import annotations

import logging
import pickle
import threading
import uuid
from concurrent.futures import Future
from typing import Any, Sequence

from l2l import ConfigError, Evaluation, Executor, Optimizee, Task

from .worker import release, run_chunk

#: Scheduler settings of the local cluster: re-run a chunk once after losing the worker that
#: held it, and hand a worker only as many chunks as it has threads (so that a worker's death
#: cannot take chunks queued behind the culprit with it).
LOCAL_SCHEDULER = {"distributed.scheduler.allowed-failures": 1,
                   "distributed.scheduler.worker-saturation": 1.0}


class DaskExecutor(Executor):
    """Evaluate on Dask workers.

    ``workers``: worker processes of the local cluster (ignored with ``address``: the
    scheduler's workers are used). ``address``: a running scheduler to connect to.
    ``timeout``: seconds per evaluation (a batch chunk gets ``timeout`` × its size), needs
    ``isolate``. ``chunk``: tasks per Dask task (None: one chunk per worker for batch
    optimizees, otherwise about four per worker). ``isolate``: evaluate in a supervised child
    process per worker (False: in the worker itself, lower overhead, a crash costs the worker).
    ``start_method`` of that child.
    """

    def __init__(self, workers: int | None = None, address: str | None = None,
                 timeout: float | None = None, chunk: int | None = None, isolate: bool = True,
                 start_method: str = "forkserver"):
        self.workers = workers if workers is not None else 1
        self.address = address
        self.timeout = timeout
        self.chunk = chunk
        self.isolate = isolate
        self.start_method = start_method

    def _check(self) -> None:
        if int(self.workers) < 1:
            raise ConfigError(f"dask executor: workers must be at least 1, got {self.workers}")
        if self.address is not None and "://" not in self.address:
            raise ConfigError(f"dask executor: address {self.address!r} should look like "
                              "'tcp://host:port'")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"dask executor: timeout must be positive, got {self.timeout}")
        if self.timeout is not None and not self.isolate:
            raise ConfigError("dask executor: timeout needs isolate = true")
        if self.chunk is not None and int(self.chunk) < 1:
            raise ConfigError(f"dask executor: chunk must be at least 1, got {self.chunk}")
        if self.start_method not in ("forkserver", "spawn", "fork"):
            raise ConfigError(f"dask executor: unknown start_method {self.start_method!r}")

    def start(self, optimizee: Optimizee) -> None:
        self._check()
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        if self.address is None:
            with dask.config.set(LOCAL_SCHEDULER):
                self._cluster = LocalCluster(n_workers=int(self.workers), threads_per_worker=1,
                                             processes=True, host="127.0.0.1",
                                             dashboard_address=None, silence_logs=logging.ERROR,
                                             # the scheduler's bare HTTP endpoint: any free port
                                             scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.address, timeout=30)
            except OSError as exc:
                raise ConfigError(f"dask executor: cannot reach the scheduler at "
                                  f"{self.address}: {exc}") from None
        self._token = uuid.uuid4().hex
        self._batch = optimizee.has_batch()
        # shipped with every chunk (scattered data would be lost with the workers holding it)
        self._payload = pickle.dumps(optimizee, protocol=pickle.HIGHEST_PROTOCOL)
        self._n_workers = max(1, len(self._client.scheduler_info()["workers"]))

    def chunk_size(self, n_tasks: int) -> int:
        if self.chunk is not None:
            return int(self.chunk)
        per = getattr(self, "_n_workers", int(self.workers)) * (1 if self._batch else 4)
        return max(1, -(-n_tasks // per))

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        out: Future[list[Evaluation]] = Future()
        self._watch(list(tasks), out)
        return out

    def _watch(self, tasks: list[Task], out: Future[list[Evaluation]]) -> None:
        from distributed import KilledWorker

        fut = self._client.submit(run_chunk, self._token, self._payload, tasks, self.timeout,
                                  bool(self.isolate), self.start_method, pure=False)

        def done(f: Any) -> None:
            try:
                out.set_result(f.result())
            except KilledWorker as exc:
                if len(tasks) == 1:
                    out.set_result([Evaluation.failed(f"dask worker lost while evaluating: {exc}")])
                else:
                    self._split(tasks, out)
            except BaseException as exc:  # noqa: BLE001 - surfaced by the caller's result()
                out.set_exception(exc)

        fut.add_done_callback(done)

    def _split(self, tasks: list[Task], out: Future[list[Evaluation]]) -> None:
        """Re-run the tasks of a chunk that killed its workers one by one."""
        parts = [self.submit([t]) for t in tasks]
        lock, left = threading.Lock(), [len(parts)]

        def one_done(_: Future[list[Evaluation]]) -> None:
            with lock:
                left[0] -= 1
                if left[0]:
                    return
            try:
                out.set_result([p.result()[0] for p in parts])
            except BaseException as exc:  # noqa: BLE001
                out.set_exception(exc)

        for p in parts:
            p.add_done_callback(one_done)

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is None:
            return
        try:
            client.run(release, self._token)
        finally:
            client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
