"""Local worker processes with crash and timeout isolation.

Each worker holds one pipe to the coordinator, sets the optimizee up once, then evaluates the
chunks it is sent and streams each outcome back as soon as it is ready. Workers ignore the
terminal's and the scheduler's signals (the coordinator stops them) and die with the
coordinator, even after a ``kill -9`` of it (:mod:`l2l.lifeline`). A dispatcher thread in
the coordinator watches pipes, process sentinels and deadlines: a worker that dies (exception
in native code, segfault, ``os._exit``, out-of-memory kill) or exceeds the per-evaluation
timeout is killed, the evaluation it was running is recorded as failed with the reason, the rest
of its chunk (and the chunks queued behind it, see :meth:`ProcessExecutor.set_prefetch`) is
re-queued, and a fresh worker takes its place.

Work stealing: a chunk queued in a busy worker's pipe (prefetch) that the worker has not
started is moved to a worker that falls idle. The two sides agree through a small shared
claim per worker (:class:`_Claim`): the worker claims a chunk before starting it, the
dispatcher revokes it only while it is unclaimed, so a chunk runs exactly once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import select
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from queue import SimpleQueue
from typing import Any, Iterator, Sequence

from .. import lifeline
from ..errors import ConfigError, ExecutorError, SetupError
from ..evaluation import Evaluation
from ..executor import (
    Executor,
    Task,
    default_chunk_size,
    min_batch,
    run_one,
    run_tasks,
    uses_batch,
    worker_name,
)
from ..optimizee import Optimizee


class _Claim:
    """Shared between a worker and the dispatcher: the sequence number of the last chunk the
    worker started and of the one chunk the dispatcher took back (-1: none). Each side reads
    and writes them holding the token of a small pipe (a mutex that, unlike a named
    semaphore, leaves nothing behind when a process dies), so a queued chunk is either
    started by its worker or taken back, never both."""

    def __init__(self, ctx: Any):
        self.cells = ctx.Array("q", [-1, -1], lock=False)  # [started, revoked]
        self.token_r, self.token_w = ctx.Pipe(duplex=False)
        os.set_blocking(self.token_r.fileno(), False)  # both sides wait with select
        os.write(self.token_w.fileno(), b"t")

    def _take(self, timeout: float | None) -> bool:
        fd = self.token_r.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if select.select([fd], [], [], left)[0]:
                try:
                    os.read(fd, 1)
                    return True
                except BlockingIOError:  # the other side took it first
                    continue

    def _give(self) -> None:
        os.write(self.token_w.fileno(), b"t")

    def start(self, seq: int) -> bool:
        """Worker side: claim chunk ``seq``; False if it was taken back."""
        self._take(None)
        try:
            if self.cells[1] == seq:
                return False
            self.cells[0] = seq
            return True
        finally:
            self._give()

    def revoke(self, seq: int) -> bool:
        """Dispatcher side: take chunk ``seq`` back if its worker has not started it. A token
        not had within 50 ms (a worker killed inside its few-microsecond claim) is a no."""
        if not self._take(0.05):
            return False
        try:
            if self.cells[0] >= seq:
                return False
            self.cells[1] = seq
            return True
        finally:
            self._give()


def _worker_main(conn: Connection, optimizee: Optimizee, owner: int, start_method: str,
                 parent_is_owner_main: bool, claim: _Claim) -> None:
    if start_method == "forkserver":
        lifeline.release_forkserver()
    lifeline.bind_to(owner, parent_dies_with_owner=start_method == "forkserver" or parent_is_owner_main)
    try:
        _serve(conn, optimizee, claim)
    except (BrokenPipeError, ConnectionResetError):  # coordinator gone mid-send: leave quietly
        return


def _serve(conn: Connection, optimizee: Optimizee, claim: _Claim) -> None:
    """The worker's life: set up, then evaluate what the coordinator sends until told to stop."""
    conn.send(("started", None))  # the worker got past interpreter start-up (see _await_ready)
    try:
        optimizee.setup()
    except BaseException as exc:  # noqa: BLE001 - reported to the coordinator
        conn.send(("setup-failed", f"{type(exc).__name__}: {exc}"))
        return
    n_obj = len(optimizee.objectives())
    me = worker_name()
    conn.send(("ready", me))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # coordinator gone: leave quietly
            return
        if msg is None:
            optimizee.teardown()
            return
        tasks, batch, seq = msg
        if not claim.start(seq):  # taken back for an idle worker while it waited here
            conn.send(("skipped", seq))
            continue
        if batch:
            for task, ev in zip(tasks, run_tasks(optimizee, tasks, batch=True)):
                conn.send(("result", task.index, ev))
        else:
            for task in tasks:
                conn.send(("result", task.index, run_one(optimizee, task, n_obj, me)))
        conn.send(("done", None))


def _died_starting(process: Any, started: bool, start_method: str) -> ExecutorError:
    """The error for a worker that exited before it was ready, naming the likely cause."""
    process.join(timeout=5)
    code = process.exitcode
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited (exit code {code})"
    if started:
        return SetupError(f"a worker process {how} during the optimizee's setup()")
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if start_method != "fork" and main:
        return ExecutorError(
            f"a worker process {how} before it started: with start_method '{start_method}' each "
            f"worker imports the main module ({main}) again, so a script must start its run "
            "under 'if __name__ == \"__main__\":' (the worker's own error is on stderr above)")
    return ExecutorError(f"a worker process {how} before it started (its own error is on "
                         "stderr above)")


@dataclass
class _Job:
    tasks: list[Task]
    future: Future[list[Evaluation]]
    stream: SimpleQueue[tuple[Task, Evaluation]] | None
    results: dict[int, Evaluation] = field(default_factory=dict)

    def record(self, task: Task, ev: Evaluation) -> None:
        self.results[task.index] = ev
        if self.stream is not None:
            self.stream.put((task, ev))
        if len(self.results) == len(self.tasks):
            self.future.set_result([self.results[t.index] for t in self.tasks])


@dataclass
class _Chunk:
    job: _Job
    tasks: list[Task]
    batch: bool
    seq: int = -1  #: its number among the chunks sent to its worker


@dataclass
class _Worker:
    """A worker process; ``chunks`` were sent to it in order: the first one runs (since
    ``since``; ``returned`` of its results arrived), the others wait in its pipe (prefetch).
    ``revoked``: a chunk taken back from its pipe that it has not yet skipped. ``dead``: a
    send found its pipe broken (it died; the dispatcher replaces it when it sees that)."""

    process: Any
    conn: Connection
    claim: _Claim
    name: str = ""
    chunks: deque[_Chunk] = field(default_factory=deque)
    returned: int = 0
    deadline: float = float("inf")
    since: float = 0.0
    sent: int = 0
    revoked: int | None = None
    dead: bool = False

    def send(self, chunk: _Chunk) -> bool:
        """Send ``chunk``; False (and nothing changed but ``dead``) if the worker has died
        since the dispatcher last looked: its pipe is broken."""
        try:
            self.conn.send((chunk.tasks, chunk.batch, self.sent))
        except (BrokenPipeError, ConnectionResetError):
            self.dead = True
            return False
        chunk.seq, self.sent = self.sent, self.sent + 1
        self.chunks.append(chunk)
        return True


class ProcessExecutor(Executor):
    """Evaluate in ``workers`` local processes (default: the number of CPU cores).

    ``timeout``: seconds allowed per evaluation (a batch chunk gets ``timeout`` × its size);
    None waits forever. ``start_method``: ``"forkserver"`` (default), ``"spawn"`` or ``"fork"``.
    ``chunk``: tasks sent together (None: one chunk per worker for batch optimizees, otherwise
    about four chunks per worker for load balance). ``setup_timeout``: seconds a worker may
    take to start and set the optimizee up (None: no limit).
    """

    def __init__(self, workers: int | None = None, timeout: float | None = None,
                 start_method: str = "forkserver", chunk: int | None = None,
                 setup_timeout: float | None = 600.0):
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.timeout = timeout
        self.start_method = start_method
        self.chunk = chunk
        self.setup_timeout = setup_timeout

    # -- life cycle ------------------------------------------------------------------------
    def start(self, optimizee: Optimizee) -> None:
        if int(self.workers) < 1:
            raise ConfigError(f"process executor: workers must be at least 1, got {self.workers}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"process executor: timeout must be positive, got {self.timeout}")
        try:
            self._ctx: Any = mp.get_context(self.start_method)
        except ValueError:
            raise ConfigError(f"process executor: unknown start_method {self.start_method!r}") from None
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload(["l2l", "numpy", *optimizee.preload])
        self._optimizee = optimizee
        self._batch = optimizee.has_batch()
        self._depth = 0
        self._pending: deque[_Chunk] = deque()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._closing = False
        self._error: BaseException | None = None
        self._workers = []
        try:
            for _ in range(int(self.workers)):
                self._workers.append(self._spawn())
            for w in self._workers:
                self._await_ready(w)
        except BaseException:
            self._shutdown(graceful=False)
            raise
        self._thread = threading.Thread(target=self._dispatch, name="l2l-process-dispatch", daemon=True)
        self._thread.start()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        claim = _Claim(self._ctx)
        proc = self._ctx.Process(
            target=_worker_main, daemon=True,
            args=(child, self._optimizee, os.getpid(), self.start_method,
                  threading.current_thread() is threading.main_thread(), claim))
        proc.start()
        child.close()
        return _Worker(proc, parent, claim)

    def _await_ready(self, w: _Worker) -> None:
        started = False
        while True:
            if not w.conn.poll(self.setup_timeout):
                w.process.kill()
                raise ExecutorError(f"optimizee setup in a worker took longer than {self.setup_timeout:g} s")
            try:
                kind, payload = w.conn.recv()
            except (EOFError, OSError):
                raise _died_starting(w.process, started, self.start_method) from None
            if kind != "started":
                break
            started = True
        if kind == "setup-failed":
            raise SetupError(f"optimizee setup failed in a worker: {payload}")
        w.name = payload

    def close(self) -> None:
        """Stop the workers: idle ones tear their optimizee down, busy ones (an interrupted
        generation) are killed at once, and evaluations still waited for fail with an
        ExecutorError (so a thread waiting on them returns)."""
        if getattr(self, "_workers", None) is None:
            return
        self._closing = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=10)
        self._shutdown(graceful=True)

    def _jobs(self) -> dict[int, _Job]:
        """The jobs with a chunk pending or sent to a worker."""
        chunks = [*self._pending, *(c for w in self._workers for c in w.chunks)]
        return {id(c.job): c.job for c in chunks}

    def _shutdown(self, graceful: bool) -> None:
        jobs = self._jobs()
        for w in self._workers:
            if graceful and not w.chunks:
                try:
                    w.conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            else:  # busy (an interrupted generation): its result is not wanted
                w.process.kill()
        deadline = time.monotonic() + (5 if graceful else 0)
        for w in self._workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._workers = None  # type: ignore[assignment]
        self._error = ExecutorError("the executor was closed")
        for job in jobs.values():
            if not job.future.done():
                job.future.set_exception(ExecutorError("the process executor was closed before "
                                                       "these evaluations finished"))

    # -- submission ------------------------------------------------------------------------
    def chunk_size(self, n_tasks: int) -> int:
        return default_chunk_size(n_tasks, int(self.workers), self._batch, self.chunk,
                                  min_batch(self._optimizee))

    def _enqueue(self, tasks: Sequence[Task], stream: SimpleQueue | None) -> Future[list[Evaluation]]:
        if self._error is not None:
            raise ExecutorError(f"process executor stopped: {self._error}")
        fut: Future[list[Evaluation]] = Future()
        job = _Job(list(tasks), fut, stream)
        if not job.tasks:
            fut.set_result([])
            return fut
        with self._lock:
            for part in [job.tasks[i:i + self.chunk_size(len(job.tasks))]
                         for i in range(0, len(job.tasks), self.chunk_size(len(job.tasks)))]:
                self._pending.append(_Chunk(job, part, uses_batch(self._optimizee, part)))
        os.write(self._wake_w, b"x")
        return fut

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        return self._enqueue(tasks, None)

    def set_prefetch(self, depth: int) -> int:
        """Send each worker up to ``depth`` chunks beyond the one it runs (they wait in its
        pipe), so that it starts the next the moment it finishes one instead of after the
        dispatcher's round trip (about 2-3 ms on a loaded machine). Idle workers are served
        first, and a worker that falls idle while no chunk is pending takes a queued chunk
        that another worker has not started (the one behind the longest-running
        evaluation), so a chunk never waits behind a slow evaluation while a worker idles."""
        self._depth = max(0, int(depth))
        return self._depth

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[Task, Evaluation]]:
        stream: SimpleQueue[tuple[Task, Evaluation]] = SimpleQueue()
        fut = self._enqueue(tasks, stream)
        for _ in range(len(tasks)):
            while True:
                if self._error is not None:
                    raise ExecutorError(f"process executor stopped: {self._error}")
                try:
                    yield stream.get(timeout=0.5)
                    break
                except Exception:  # queue.Empty: re-check the dispatcher's health
                    continue
        fut.result()

    # -- dispatcher thread -----------------------------------------------------------------
    def _dispatch(self) -> None:
        try:
            while not self._closing:
                self._assign()
                now = time.monotonic()
                deadline = min((w.deadline for w in self._workers), default=float("inf"))
                timeout = None if deadline == float("inf") else max(0.0, deadline - now)
                ready = wait([self._wake_r] + [w.conn for w in self._workers]
                             + [w.process.sentinel for w in self._workers], timeout=timeout)
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                for w in list(self._workers):
                    if w.conn in ready:
                        self._drain(w)
                    elif w.process.sentinel in ready and not w.process.is_alive():
                        self._replace(w, self._death_reason(w))
                for w in list(self._workers):
                    if w.dead:  # its pipe broke, its end not yet seen
                        self._replace(w, self._death_reason(w))
                now = time.monotonic()
                for w in list(self._workers):
                    if w.chunks and now > w.deadline:
                        self._replace(w, f"timeout: evaluation exceeded {self.timeout:g} s "
                                         f"(worker {w.name} killed)")
        except BaseException as exc:  # noqa: BLE001 - surfaced to the waiting caller
            self._error = exc
            with self._lock:  # one-task submissions (async mode) wait on their futures
                jobs = self._jobs()
            for job in jobs.values():
                if not job.future.done():
                    job.future.set_exception(ExecutorError(f"process executor stopped: {exc}"))

    def _assign(self) -> None:
        """Send pending chunks: to idle workers first, then (prefetch) to the workers with
        the fewest chunks, up to ``1 + depth`` each, except those a chunk was taken from
        (still busy with the evaluation it waited behind). With nothing pending, idle workers
        take queued chunks (:meth:`_steal`)."""
        with self._lock:
            for held in range(1 + self._depth):
                for w in self._workers:
                    if self._pending and len(w.chunks) == held and not w.dead and (
                            held == 0 or w.revoked is None):
                        self._send(w, self._pending.popleft())
            if not self._pending:
                self._steal()

    def _send(self, w: _Worker, chunk: _Chunk) -> None:
        """Send ``chunk`` to ``w``; back to the front of the queue if ``w`` turns out dead
        (a worker can die, e.g. by a segfault, between the dispatcher's looks; the next look
        replaces it and fails the evaluation it died in)."""
        idle = not w.chunks
        if not w.send(chunk):
            self._pending.appendleft(chunk)
        elif idle:  # it starts at once
            w.returned, w.deadline, w.since = 0, self._deadline(chunk), time.monotonic()

    def _steal(self) -> None:
        """Give each idle worker the last chunk queued behind the longest-running evaluation,
        if that worker has not started it (see :class:`_Claim`)."""
        idle = [w for w in self._workers if not w.chunks and not w.dead]
        while idle:
            victims = sorted((w for w in self._workers if len(w.chunks) > 1 and w.revoked is None),
                             key=lambda w: w.since)
            for victim in victims:
                chunk = victim.chunks[-1]
                if victim.claim.revoke(chunk.seq):
                    victim.chunks.pop()
                    victim.revoked = chunk.seq
                    self._send(idle.pop(), chunk)
                    break
            else:
                return

    def _deadline(self, chunk: _Chunk) -> float:
        if self.timeout is None:
            return float("inf")
        return time.monotonic() + self.timeout * (len(chunk.tasks) if chunk.batch else 1)

    def _drain(self, w: _Worker) -> None:
        while w.conn.poll():
            try:
                kind, *payload = w.conn.recv()
            except (EOFError, OSError):
                self._replace(w, self._death_reason(w))
                return
            if kind == "skipped":  # a chunk taken back (it runs on another worker)
                w.revoked = None
                continue
            if not w.chunks:
                continue
            chunk = w.chunks[0]
            if kind == "result":
                index, ev = payload
                task = next(t for t in chunk.tasks if t.index == index)
                chunk.job.record(task, ev)
                w.returned += 1
                if not chunk.batch:
                    w.deadline = self._deadline(chunk)
            elif kind == "done":  # the next chunk in its pipe (if any) has started
                w.chunks.popleft()
                w.returned, w.since = 0, time.monotonic()
                w.deadline = self._deadline(w.chunks[0]) if w.chunks else float("inf")

    def _death_reason(self, w: _Worker) -> str:
        w.process.join(timeout=1)
        code = w.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return f"worker {w.name or '?'} died ({how})"

    def _replace(self, w: _Worker, reason: str) -> None:
        if w.process.is_alive():
            w.process.kill()
        w.process.join()
        w.conn.close()
        self._workers.remove(w)
        if w.chunks:
            chunk, queued = w.chunks[0], list(w.chunks)[1:]
            left = chunk.tasks[w.returned:]
            if chunk.batch:
                # isolate the culprit: re-run each remaining task on its own
                again = [_Chunk(chunk.job, [t], False) for t in left]
            else:
                chunk.job.record(left[0], Evaluation.failed(reason, worker=w.name))
                again = [_Chunk(chunk.job, left[1:], False)] if left[1:] else []
            with self._lock:  # first in line again, the chunks queued behind it included
                self._pending.extendleft(reversed(again + queued))
        if self._closing:
            return
        fresh = self._spawn()
        self._await_ready(fresh)
        self._workers.append(fresh)
