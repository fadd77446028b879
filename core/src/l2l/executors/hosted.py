"""An optimizee hosted by a long-lived worker of another executor (an MPI rank, a Dask worker).

Pools such as ``mpi4py.futures`` and ``dask.distributed`` cannot stop a running call. With
``isolate`` (the default) the host therefore evaluates in a one-process
:class:`~l2l.executors.process.ProcessExecutor` child: a crash or timeout kills only that child,
the evaluation is recorded as failed with its reason, and a fresh child takes over. Without
``isolate`` the worker evaluates in-process (less overhead, no timeout, no crash containment).
A setup error is kept and raised (as :class:`~l2l.errors.SetupError`) with every chunk of the
run, so that the run fails instead of recording failed evaluations.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..errors import ConfigError, SetupError
from ..evaluation import Evaluation
from ..executor import Task, prepared, run_tasks, worker_name
from ..optimizee import Optimizee
from .process import ProcessExecutor


def check_host_options(who: str, workers: int, timeout: float | None, chunk: int | None,
                       isolate: bool, start_method: str) -> None:
    """The option checks shared by executors that host optimizees (``who``: "mpi", "dask")."""
    if int(workers) < 1:
        raise ConfigError(f"{who} executor: workers must be at least 1, got {workers}")
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"{who} executor: timeout must be positive, got {timeout}")
    if timeout is not None and not isolate:
        raise ConfigError(f"{who} executor: timeout needs isolate = true")
    if chunk is not None and int(chunk) < 1:
        raise ConfigError(f"{who} executor: chunk must be at least 1, got {chunk}")
    if start_method not in ("forkserver", "spawn", "fork"):
        raise ConfigError(f"{who} executor: unknown start_method {start_method!r}")


class HostedOptimizee:
    """The worker-side state of one run: set up once, then :meth:`run` per chunk.

    ``load`` returns the optimizee (e.g. unpickles it); its errors are kept like setup errors.
    """

    def __init__(self, token: str, load: Callable[[], Optimizee], timeout: float | None = None,
                 isolate: bool = True, start_method: str = "forkserver"):
        self.token = token
        self.error: str | None = None
        self._child: ProcessExecutor | None = None
        self._optimizee: Optimizee | None = None
        try:
            optimizee = load()
            if isolate:
                child = ProcessExecutor(workers=1, timeout=timeout, start_method=start_method)
                child.start(optimizee)
                self._child = child
            else:
                self._optimizee = prepared(token, optimizee)
        except BaseException as exc:  # noqa: BLE001 - raised with every chunk of this run
            self.error = str(exc) if isinstance(exc, SetupError) else \
                f"optimizee setup failed: {type(exc).__name__}: {exc}"

    def run(self, tasks: Sequence[Task], where: str) -> list[Evaluation]:
        """Evaluate ``tasks``; outcomes in task order. ``where`` names the worker in errors."""
        if self.error is not None:
            raise SetupError(f"{where} {worker_name()}: {self.error}")
        if self._child is not None:
            return self._child.submit(tasks).result()
        assert self._optimizee is not None
        return run_tasks(self._optimizee, tasks)

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None
