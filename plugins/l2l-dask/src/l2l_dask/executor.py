"""The ``dask`` executor: chunks of tasks run on a Dask cluster.

Without ``address`` a :class:`distributed.LocalCluster` is started (``workers`` single-threaded
worker processes, no dashboard; the scheduler, the workers and their HTTP endpoints listen on
``host``, 127.0.0.1 by default) and closed with the run; its workers keep their files in a
private temporary directory removed at close (no ``dask-scratch-space`` is left behind), ignore
the terminal's signals and die with the coordinator (:mod:`l2l_dask.preload`). With
``address = "tcp://host:port"`` the executor connects to a running scheduler (for instance one
started by dask-jobqueue on Slurm) and leaves it running.

Tasks go in chunks (about four per worker) so that Dask's per-task cost (a few milliseconds)
is paid per chunk, not per evaluation. Each worker evaluates in a child process it supervises
(``isolate = true``): crashes and timeouts become failed evaluations and only that child is
replaced. If a whole Dask worker is lost, the scheduler re-runs its chunk as often as its
``allowed-failures`` allows (0 for the local cluster); a chunk that still fails is split into
single tasks, and a task whose worker is lost that way is recorded as failed. Lost workers of
the local cluster are recreated, and a cluster left without workers for ``no_workers_timeout``
seconds stops the run with an error instead of a hang.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future
from queue import Empty, SimpleQueue
from pathlib import Path
from typing import Any, Iterator, Sequence

from l2l import ConfigError, Evaluation, Executor, ExecutorError, Optimizee, Task, lifeline
from l2l.executor import chunked, default_chunk_size, min_batch
from l2l.executors.hosted import check_host_options

from .worker import release, run_chunk

#: Scheduler settings of the local cluster: a chunk whose worker died is not re-run by Dask (the
#: executor re-runs its tasks one by one), and a worker gets only as many chunks as it has
#: threads (so that a worker's death cannot take chunks queued behind the culprit with it).
LOCAL_SCHEDULER = {"distributed.scheduler.allowed-failures": 0,
                   "distributed.scheduler.worker-saturation": 1.0}

#: Held while the local cluster runs (the cluster reads it whenever a worker is lost): how
#: long a lost worker's nanny gets to restart it before the cluster closes that nanny. Dask's
#: 15 s is too short on a loaded machine: the nanny was closed just as its restarted worker
#: had taken a task, which then failed as if it had killed its worker.
LOCAL_LIFETIME = {"distributed.deploy.lost-worker-timeout": "120s"}

#: seconds to fetch a finished chunk's result before it counts as lost with its worker
FETCH_SECONDS = 10.0


class DaskExecutor(Executor):
    """Evaluate on Dask workers.

    ``workers``: worker processes of the local cluster (ignored with ``address``: the
    scheduler's workers are used). ``address``: a running scheduler to connect to.
    ``timeout``: seconds per evaluation (a batch chunk gets ``timeout`` × its size), needs
    ``isolate``. ``chunk``: tasks per Dask task (None: one chunk per worker for batch
    optimizees, otherwise about four per worker). ``isolate``: evaluate in a supervised child
    process per worker (False: in the worker itself, lower overhead, a crash costs the worker).
    ``start_method`` of that child. ``no_workers_timeout``: seconds to wait while the cluster
    has no workers at all (e.g. batch jobs still queued) before the run stops with an error;
    None waits forever. ``host``: the address the local cluster listens on (default
    ``"127.0.0.1"``; ``"*"`` for every interface, e.g. to attach workers from other machines).
    """

    def __init__(self, workers: int | None = None, address: str | None = None,
                 timeout: float | None = None, chunk: int | None = None, isolate: bool = True,
                 start_method: str = "forkserver", no_workers_timeout: float | None = 300.0,
                 host: str = "127.0.0.1"):
        self.workers = workers if workers is not None else 1
        self.address = address
        self.timeout = timeout
        self.chunk = chunk
        self.isolate = isolate
        self.start_method = start_method
        self.no_workers_timeout = no_workers_timeout
        self.host = host

    def _check(self) -> None:
        check_host_options("dask", self.workers, self.timeout, self.chunk, self.isolate, self.start_method)
        if self.address is not None and "://" not in self.address:
            raise ConfigError(f"dask executor: address {self.address!r} should look like "
                              "'tcp://host:port'")
        if self.no_workers_timeout is not None and self.no_workers_timeout <= 0:
            raise ConfigError(f"dask executor: no_workers_timeout must be positive, "
                              f"got {self.no_workers_timeout}")
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"dask executor: host must be an address or \"*\", got {self.host!r}")

    _client: Any = None

    def start(self, optimizee: Optimizee) -> None:
        self._check()
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        self._lifetime: Any = None
        self._scratch: str | None = None
        self._inflight: set[Any] = set()
        if self.address is None:
            host = "0.0.0.0" if self.host == "*" else self.host
            self._scratch = _scratch_directory()
            try:
                # every dask server (scheduler, nannies, workers) works in a scratch space
                self._lifetime = dask.config.set(LOCAL_LIFETIME)  # until close()
                with dask.config.set({**LOCAL_SCHEDULER, "temporary-directory": self._scratch}):
                    self._cluster = LocalCluster(
                        n_workers=int(self.workers), threads_per_worker=1, processes=True,
                        host=host, dashboard_address=None, silence_logs=logging.ERROR,
                        local_directory=self._scratch, preload=["l2l_dask.preload"],
                        # their temporary files too (removed with it, even if they are killed)
                        env={"TMPDIR": self._scratch},
                        worker_dashboard_address=f"{_url_host(host)}:0",
                        # the scheduler's bare HTTP endpoint: any free port
                        scheduler_kwargs={"dashboard_address": f"{_url_host(host)}:0"})
                self._client = Client(self._cluster)
            except BaseException:
                self.close()
                raise
        else:
            try:
                self._client = Client(self.address)  # distributed.comm.timeouts.connect
            except OSError as exc:
                raise ConfigError(f"dask executor: cannot reach the scheduler at "
                                  f"{self.address}: {exc}") from None
        self._token = uuid.uuid4().hex
        self._batch, self._least = optimizee.has_batch(), min_batch(optimizee)
        # shipped with every chunk (scattered data would be lost with the workers holding it)
        self._payload = pickle.dumps(optimizee, protocol=pickle.HIGHEST_PROTOCOL)

    def chunk_size(self, n_tasks: int) -> int:
        workers = len(self._client.nthreads()) if self._client is not None else int(self.workers)
        return default_chunk_size(n_tasks, workers, self._batch, self.chunk, self._least)

    def slots(self) -> int:
        client = getattr(self, "_client", None)
        return max(1, sum(client.nthreads().values()) if client is not None else int(self.workers))

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        """Run ``tasks`` as one chunk; the future's result is in task order."""
        out: Future[list[Evaluation]] = Future()
        chunk = list(tasks)

        def collect() -> None:
            try:
                got = {t.index: ev for t, ev in self._stream([chunk])}
                out.set_result([got[t.index] for t in chunk])
            except BaseException as exc:  # noqa: BLE001 - surfaced by the caller's result()
                out.set_exception(exc)

        threading.Thread(target=collect, name="l2l-dask-submit", daemon=True).start()
        return out

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[Task, Evaluation]]:
        return self._stream(chunked(tasks, self.chunk_size(len(tasks))))

    def _stream(self, chunks: list[list[Task]]) -> Iterator[tuple[Task, Evaluation]]:
        """Yield outcomes as chunks complete (finished chunks are gathered together), watching
        the cluster meanwhile: lost local workers are recreated, and a cluster without any
        worker for ``no_workers_timeout`` seconds stops the run with an error."""
        from distributed import KilledWorker

        self._heal()
        completed: SimpleQueue[Any] = SimpleQueue()
        pending: dict[Any, list[Task]] = {}

        def send(tasks: list[Task]) -> None:
            fut = self._client.submit(run_chunk, self._token, self._payload, tasks, self.timeout,
                                      bool(self.isolate), self.start_method, pure=False)
            pending[fut] = tasks
            self._inflight.add(fut)
            fut.add_done_callback(self._inflight.discard)
            fut.add_done_callback(completed.put)

        for chunk in chunks:
            send(chunk)
        workerless_since = None
        while pending:
            try:
                done = [completed.get(timeout=1.0)]
            except Empty:
                if self._heal():
                    workerless_since = None
                elif workerless_since is None:
                    workerless_since = time.monotonic()
                elif (self.no_workers_timeout is not None
                      and time.monotonic() - workerless_since > self.no_workers_timeout):
                    raise ExecutorError(f"dask executor: the cluster has had no workers for "
                                        f"{self.no_workers_timeout:g} s") from None
                continue
            while not completed.empty():
                done.append(completed.get())
            done = [f for f in dict.fromkeys(done) if f in pending]
            for fut in [f for f in done if f.status == "finished"]:
                try:
                    evaluations = fut.result(timeout=FETCH_SECONDS)
                except Exception:  # noqa: BLE001, S112 - its result was lost with a worker since
                    # (a crash, a restart): below, it is watched again until recomputed (or
                    # failed) while the loop above heals the cluster; a blocking gather would
                    # wait for the recomputation without healing
                    continue
                yield from zip(pending.pop(fut), evaluations)
            for fut in [f for f in done if f in pending]:
                if fut.status == "cancelled":
                    raise ExecutorError(f"dask executor: a chunk was cancelled ({fut.key})")
                if fut.status != "error":  # its result was lost with a worker: recomputed
                    fut.add_done_callback(completed.put)
                    continue
                tasks = pending.pop(fut)
                exc = fut.exception()
                if not isinstance(exc, KilledWorker):
                    raise exc
                if len(tasks) == 1:
                    yield tasks[0], Evaluation.failed(f"dask worker lost while evaluating: {exc}")
                else:  # re-run the chunk's tasks one by one to find the culprit
                    for task in tasks:
                        send([task])

    def _heal(self) -> int:
        """Recreate lost workers of the local cluster; return the number of live workers."""
        n = len(self._client.nthreads())
        if self._cluster is not None and n < int(self.workers):
            # a LocalCluster gives up on a worker that died repeatedly within
            # distributed.deploy.lost-worker-timeout; scaling brings it back
            self._cluster.scale(int(self.workers))
        return n

    def close(self) -> None:
        """Stop this run's evaluation children (a chunk still running, from an interrupted
        generation, is abandoned), then the local cluster and its temporary directory."""
        client = getattr(self, "_client", None)
        quiet = logging.getLogger("distributed")
        level = quiet.level
        # closing after an interruption (workers killed by the terminal's or the scheduler's
        # signal): the cluster's complaints about them are not the user's concern
        quiet.setLevel(logging.CRITICAL)
        try:
            if client is not None:
                try:
                    if self._inflight:
                        client.cancel(list(self._inflight))
                    client.run(release, self._token, on_error="ignore")
                finally:
                    client.close()
        finally:
            if getattr(self, "_cluster", None) is not None:
                self._cluster.close()
            if getattr(self, "_scratch", None):
                shutil.rmtree(self._scratch, ignore_errors=True)
            if getattr(self, "_lifetime", None) is not None:
                self._lifetime.__exit__(None, None, None)
            self._client = self._cluster = self._scratch = self._lifetime = None
            quiet.setLevel(level)


def _scratch_directory() -> str:
    """A private temporary directory for the local cluster's workers, named after this process;
    those of processes that died without removing theirs (kill -9) are removed first."""
    base = Path(tempfile.gettempdir())
    for old in base.glob("l2l-dask-*-*"):
        try:
            pid = int(old.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not lifeline.alive(pid) and old.stat().st_uid == os.getuid():
            shutil.rmtree(old, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"l2l-dask-{os.getpid()}-")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
