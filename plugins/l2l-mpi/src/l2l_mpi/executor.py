"""The ``mpi`` executor: chunks of tasks run on MPI ranks through ``mpi4py.futures``.

Two ways to get ranks:

* launched: ``mpiexec -n N python -m mpi4py.futures -m l2l run exp.toml --executor mpi``;
  rank 0 runs l2l (coordinates, writes the store), ranks 1..N-1 are the workers;
* spawned: a plain ``l2l run`` with ``workers = N`` spawns N worker ranks with
  ``MPI_Comm_spawn`` (the mpich wheel's ``mpiexec`` is put on PATH for that).

``mpi4py.futures`` cannot stop a running call, so by default (``isolate = true``) each worker
rank evaluates in a local child process that it supervises (the core's process executor with one
worker): a crash or a timeout kills only that child, the evaluation is recorded as failed with
its reason, and a fresh child (set up again) takes over. The child also runs without the MPI
launcher's environment variables, so simulators built without MPI (NEST wheels) start.

Workers get the coordinator's ``sys.path`` but do not import its ``__main__`` (that would re-run
the ``l2l`` command on every rank): optimizees must live in importable modules.
"""

from __future__ import annotations

import pickle
import sys
import uuid
from concurrent.futures import Future
from typing import Any, Sequence

from l2l import ConfigError, Evaluation, Executor, ExecutorError, Optimizee, Task
from l2l.executor import default_chunk_size, min_batch
from l2l.executors.hosted import check_host_options

from .environment import ensure_mpiexec
from .worker import init_worker, run_chunk


def launched_size() -> int:
    """Size of MPI_COMM_WORLD (1 when not started by an MPI launcher)."""
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_size()


class MPIExecutor(Executor):
    """Evaluate on MPI worker ranks.

    ``workers``: ranks to spawn when not launched by ``mpiexec`` (launched: the other ranks of
    the job, this key is ignored). ``timeout``: seconds per evaluation (a batch chunk gets
    ``timeout`` × its size), needs ``isolate``. ``chunk``: tasks sent together (None: one chunk
    per worker for batch optimizees, otherwise about four per worker). ``isolate``: evaluate in
    a supervised child process per rank (crash and timeout containment); False evaluates in the
    rank itself (lower overhead, a crash ends the MPI job). ``start_method`` of the child.
    """

    def __init__(self, workers: int | None = None, timeout: float | None = None,
                 chunk: int | None = None, isolate: bool = True,
                 start_method: str = "forkserver"):
        self.workers = workers if workers is not None else 1
        self.timeout = timeout
        self.chunk = chunk
        self.isolate = isolate
        self.start_method = start_method

    def _check(self) -> None:
        check_host_options("mpi", self.workers, self.timeout, self.chunk, self.isolate, self.start_method)

    def start(self, optimizee: Optimizee) -> None:
        self._check()
        from mpi4py.futures import MPIPoolExecutor, _core

        options: dict[str, Any] = {}
        if launched_size() > 1:
            if getattr(_core, "SharedPool", None) is None:
                raise ConfigError("mpi executor: under mpiexec, start l2l as "
                                  "'python -m mpi4py.futures -m l2l run ...'")
        else:
            if ensure_mpiexec() is None:
                raise ConfigError("mpi executor: no mpiexec found to spawn workers "
                                  "(install the 'mpich' wheel or put an MPI's bin on PATH)")
            options["max_workers"] = int(self.workers)
        self._token = uuid.uuid4().hex
        payload = pickle.dumps(optimizee, protocol=pickle.HIGHEST_PROTOCOL)
        self._batch, self._least = optimizee.has_batch(), min_batch(optimizee)
        self._pool = MPIPoolExecutor(
            initializer=init_worker,
            initargs=(self._token, payload, self.timeout, bool(self.isolate), self.start_method),
            path=list(sys.path), main=False, **options)
        self._pool.bootup(wait=True)
        self._n_workers = self._pool.num_workers
        if self._n_workers < 1:
            raise ExecutorError("mpi executor: no worker ranks (did the pool initializer fail?)")

    def chunk_size(self, n_tasks: int) -> int:
        return default_chunk_size(n_tasks, getattr(self, "_n_workers", int(self.workers)), self._batch,
                                  self.chunk, self._least)

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        return self._pool.submit(run_chunk, self._token, list(tasks))

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
            self._pool = None
