"""The executor boundary: run evaluations somewhere and stream their outcomes back.

An executor is started once per run with the optimizee (which it ships to its workers; each
worker calls ``optimizee.setup()`` once), then receives :class:`Task` lists through
:meth:`Executor.submit` (one chunk, a future of its evaluations) or :meth:`Executor.map` (all
tasks, outcomes yielded as they complete). Failures never escape as exceptions: a raising,
crashing, hanging or NaN-returning evaluation comes back as a failed :class:`Evaluation`.

Worker-side code of every executor calls :func:`run_tasks`, so failure semantics, timing and the
batch path are the same everywhere.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from . import serialize
from .errors import EvaluationError, L2LError, SetupError
from .evaluation import Evaluation, as_evaluation
from .optimizee import Optimizee
from .params import KeywordArgs
from .space import Params


@dataclass(frozen=True)
class Task:
    """One evaluation to run: its index in the generation, the parameters, its seed."""

    index: int
    params: Params
    seed: int


def worker_name() -> str:
    """``host:pid`` of the current process, recorded with each evaluation."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EvaluationError):
        return str(exc)  # the optimizee's own wording of why the evaluation failed
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def min_batch(optimizee: Optimizee) -> int:
    """The smallest number of tasks the optimizee's batch path is used for (at least 2)."""
    return max(2, int(getattr(optimizee, "min_batch", 2)))


def uses_batch(optimizee: Optimizee, tasks: Sequence[Task], batch: bool | None = None) -> bool:
    """Whether ``tasks`` go through the batch path. ``batch=None``: the optimizee offers one
    and there are at least :func:`min_batch` tasks; ``batch=True`` forces it for more than one
    task; False never."""
    if batch is None:
        return optimizee.has_batch() and len(tasks) >= min_batch(optimizee)
    return bool(batch) and len(tasks) > 1


def setup_optimizee(optimizee: Optimizee) -> None:
    """``optimizee.setup()`` on a worker. An :class:`L2LError` (a ``ConfigError`` naming a bad
    setting) propagates as it is; any other exception becomes a :class:`SetupError`. Executors
    raise either, never turn them into failed evaluations."""
    try:
        optimizee.setup()
    except L2LError:
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised as SetupError
        raise SetupError(f"optimizee setup failed in a worker: {type(exc).__name__}: {exc}") from exc


def run_tasks(optimizee: Optimizee, tasks: Sequence[Task], batch: bool | None = None) -> list[Evaluation]:
    """Evaluate ``tasks`` with ``optimizee`` (already set up) in this process.

    Uses the optimizee's batch path when it has one and there are at least its ``min_batch``
    tasks (``batch=None``), or when ``batch`` is True.
    Exceptions (``sys.exit()`` included), wrong fitness lengths, non-finite values and results
    that cannot be stored (an ``info`` that is not JSON-serialisable, a string instead of a
    number) become failed evaluations. If a whole batch raises or returns the wrong number of
    results, each task is retried on its own so one bad individual does not fail the others; a
    batch whose results are individually malformed fails only those.
    """
    n_obj = len(optimizee.objectives())
    me = worker_name()
    if uses_batch(optimizee, tasks, batch):
        t0 = time.perf_counter()
        try:
            results = list(optimizee.evaluate_batch([t.params for t in tasks],
                                                    [t.seed for t in tasks]))
            if len(results) != len(tasks):
                raise RuntimeError(f"evaluate_batch returned {len(results)} results for {len(tasks)} tasks")
        except (Exception, SystemExit):  # noqa: BLE001 - retry one by one to isolate the culprit
            return [run_one(optimizee, t, n_obj, me) for t in tasks]
        per = (time.perf_counter() - t0) / len(tasks)
        out = []
        for r in results:
            ev = _converted(r, n_obj)
            ev.wall_time, ev.worker = per, me
            out.append(ev)
        return out
    return [run_one(optimizee, t, n_obj, me) for t in tasks]


def run_one(optimizee: Optimizee, task: Task, n_obj: int, me: str) -> Evaluation:
    """Evaluate one task with failure capture and timing."""
    t0 = time.perf_counter()
    try:
        ev = _converted(optimizee.evaluate(task.params, task.seed), n_obj)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - every failure is recorded, never raised
        ev = Evaluation.failed(_reason(exc))
    ev.wall_time, ev.worker = time.perf_counter() - t0, me
    return ev


def _converted(result: Any, n_obj: int) -> Evaluation:
    """``result`` as an evaluation that the store can keep, or a failed one saying why not."""
    try:
        ev = as_evaluation(result, n_obj)
    except Exception as exc:  # noqa: BLE001 - a malformed result fails its evaluation only
        return Evaluation.failed(f"unusable result {_short(result)}: {_reason(exc)}")
    try:
        ev.info = serialize.loads(serialize.dumps(dict(ev.info)))
    except Exception as exc:  # noqa: BLE001
        return Evaluation.failed(f"info is not JSON-serialisable: {type(exc).__name__}: {exc}")
    return ev


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


_prepared: dict[str, Optimizee] = {}


def prepared(token: str, optimizee: Optimizee | None = None,
             loader: Any = None) -> Optimizee:
    """Per-worker cache: the set-up optimizee for ``token``, calling ``setup()`` only once.

    Executors that ship the optimizee with every task (MPI, Dask) call this on the worker with
    a token identifying the run; ``loader()`` produces the optimizee on a cache miss. A failing
    ``setup()`` raises :class:`SetupError`.
    """
    if token not in _prepared:
        opt = optimizee if optimizee is not None else loader()
        setup_optimizee(opt)
        _prepared.clear()
        _prepared[token] = opt
    return _prepared[token]


def default_chunk_size(n_tasks: int, workers: int, batch: bool, chunk: int | None = None,
                       least: int = 2) -> int:
    """Tasks per chunk: ``chunk`` when given; else, for a batch optimizee (``batch``) whose
    chunks would hold at least ``least`` tasks (its :func:`min_batch`), one chunk per worker,
    otherwise about four chunks per worker (load balance)."""
    if chunk is not None:
        return int(chunk)
    workers = max(1, int(workers))
    batch = batch and -(-n_tasks // workers) >= least
    return max(1, -(-n_tasks // (workers * (1 if batch else 4))))


def chunked(tasks: Sequence[Task], size: int) -> list[list[Task]]:
    """Split tasks into consecutive chunks of at most ``size``."""
    size = max(1, int(size))
    return [list(tasks[i:i + size]) for i in range(0, len(tasks), size)]


class Executor(KeywordArgs):
    """Base class of executors.

    Subclasses implement :meth:`start`, :meth:`submit` and :meth:`close`; :meth:`map` has a
    default that submits chunks and yields outcomes as chunks complete. ``workers`` is the
    degree of parallelism the executor reports (used to size chunks).
    """

    workers: int = 1

    def start(self, optimizee: Optimizee) -> None:
        """Ship the optimizee to the workers (each calls ``setup()`` once)."""
        raise NotImplementedError

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        """Run one chunk of tasks together; the future never raises for a task's failure."""
        raise NotImplementedError

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[Task, Evaluation]]:
        """Run all tasks; yield ``(task, evaluation)`` pairs in completion order."""
        from concurrent.futures import as_completed

        futures = {self.submit(chunk): chunk for chunk in chunked(tasks, self.chunk_size(len(tasks)))}
        for fut in as_completed(futures):
            yield from zip(futures[fut], fut.result())

    def slots(self) -> int:
        """How many evaluations run at once after :meth:`start` (async mode keeps this many
        in flight, each a one-task :meth:`submit`; futures are waited for with
        ``concurrent.futures.wait(..., return_when=FIRST_COMPLETED)``): ``workers`` by
        default."""
        return max(1, int(self.workers or 1))

    def set_prefetch(self, depth: int) -> int:
        """Async mode calls this after :meth:`start` with ``[experiment] prefetch`` and keeps
        ``slots() × (1 + returned value)`` evaluations submitted: each slot may hold ``depth``
        tasks queued behind the one it runs, so that a worker that finishes starts the next
        without waiting for the coordinator to tell a result and ask a candidate. Return the
        depth used: an executor that queues submissions itself (a scheduler) keeps the
        default (``depth``); one that evaluates on submit returns 0. An executor that queues
        tasks in its workers should let a worker that falls idle take a queued task its busy
        peer has not started (the ``process`` executor does), or a task may wait behind a
        slow evaluation while a worker idles."""
        return max(0, int(depth))

    def chunk_size(self, n_tasks: int) -> int:
        """How many tasks go together: one chunk per worker by default."""
        return -(-n_tasks // max(1, self.workers))

    def close(self) -> None:
        """Stop all workers; the executor cannot be used afterwards."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
