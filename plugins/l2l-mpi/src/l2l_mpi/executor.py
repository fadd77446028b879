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

Network: by default (``host = "127.0.0.1"``) nothing of the run listens beyond loopback. Spawned
ranks are started through the mpich wheel's ``gforker`` process manager (socket pairs, no TCP
port) with MPICH's netmod on ``lo``; launched jobs are checked at start and refused, with the
fix named, when MPI listens on other addresses. ``host = "*"`` (jobs across nodes) or an
address allows more; see :mod:`l2l_mpi.network`.
"""

from __future__ import annotations

import os
import pickle
import socket
import sys
import uuid
from concurrent.futures import Future
from typing import Any, Sequence

from l2l import ConfigError, Evaluation, Executor, ExecutorError, Optimizee, Task
from l2l.executor import default_chunk_size, min_batch
from l2l.executors.hosted import check_host_options

from . import network, ranks
from .environment import ensure_mpiexec, use_gforker
from .worker import init_worker, run_chunk


def _launched() -> bool:
    """Whether an MPI launcher started this process (judged from its environment, so that it
    can be asked before MPI is initialised)."""
    return any(k.startswith(("PMI_", "PMIX_", "OMPI_COMM_WORLD_", "HYDI_", "MPI_LOCALNRANKS"))
               for k in os.environ)


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
    ``host``: the address MPI may listen on besides loopback (default ``"127.0.0.1"``: loopback
    only); ``"*"`` allows every address, as jobs across nodes need.
    """

    def __init__(self, workers: int | None = None, timeout: float | None = None,
                 chunk: int | None = None, isolate: bool = True,
                 start_method: str = "forkserver", host: str = "127.0.0.1"):
        self.workers = workers if workers is not None else 1
        self.timeout = timeout
        self.chunk = chunk
        self.isolate = isolate
        self.start_method = start_method
        self.host = host

    def _check(self) -> None:
        check_host_options("mpi", self.workers, self.timeout, self.chunk, self.isolate, self.start_method)
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"mpi executor: host must be an address or \"*\", got {self.host!r}")

    def start(self, optimizee: Optimizee) -> None:
        self._check()
        if not _launched() and "mpi4py.MPI" not in sys.modules:
            self._prepare_spawn()  # before MPI starts in this process
        from mpi4py.futures import MPIPoolExecutor, _core

        options: dict[str, Any] = {}
        launched = launched_size() > 1
        if launched:
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
        owner = (socket.gethostname(), os.getpid())
        self._pool = MPIPoolExecutor(
            initializer=init_worker,
            initargs=(self._token, payload, self.timeout, bool(self.isolate), self.start_method,
                      owner),
            path=list(sys.path), main=False, **options)
        self._pool.bootup(wait=True)
        self._launched = launched
        self._futures: set[Future[list[Evaluation]]] = set()
        self._n_workers = self._pool.num_workers
        if self._n_workers < 1:
            self.close()
            raise ExecutorError("mpi executor: no worker ranks (did the pool initializer fail?)")
        self._check_network(launched)

    def _prepare_spawn(self) -> None:
        """Spawn mode, before MPI starts: MPICH's netmod on loopback (unless the user set its
        variables), ranks spawned by the gforker process manager (no TCP port)."""
        if network.loopback(self.host):
            for key, value in network.LOOPBACK_ENV.items():
                os.environ.setdefault(key, value)
            use_gforker()

    def _check_network(self, launched: bool) -> None:
        """Shut the singleton's PMI port (spawned), then refuse listeners beyond ``host``."""
        if not launched:
            network.shut_singleton_port()
        pids = [os.getpid()] + ([] if launched else ranks.descendants(os.getpid()))
        wide = network.beyond(network.listeners(pids), self.host)
        if not wide:
            return
        self.close()
        where = ", ".join(map(str, wide))
        fix = ("launch it on one node with 'UCX_NET_DEVICES=lo mpiexec.gforker -n N python -m "
               "mpi4py.futures -m l2l run ...'" if launched else
               "unset the UCX_NET_DEVICES/FI_TCP_IFACE variables that widen it")
        raise ConfigError(f"mpi executor: MPI listens beyond loopback ({where}); {fix}, or allow "
                          f"it with host = \"*\" (or the address) in [executor]")

    def chunk_size(self, n_tasks: int) -> int:
        return default_chunk_size(n_tasks, getattr(self, "_n_workers", int(self.workers)), self._batch,
                                  self.chunk, self._least)

    def slots(self) -> int:
        return max(1, int(getattr(self, "_n_workers", self.workers)))

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        future = self._pool.submit(run_chunk, self._token, list(tasks))
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def close(self) -> None:
        """Stop the worker ranks. Chunks still running (an interrupted generation) are
        abandoned: the ranks on this machine are told to drop them, so that closing does not
        wait for evaluations whose results nobody will read."""
        pool = getattr(self, "_pool", None)
        if pool is None:
            return
        self._pool = None
        if any(not f.done() for f in list(getattr(self, "_futures", ()))):
            ranks.abort(ranks.local_ranks(self._launched))
        pool.shutdown(wait=True, cancel_futures=True)
