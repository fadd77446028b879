"""The signal matrix: Ctrl-C (SIGINT to the process group, as a terminal sends it), SIGTERM (a
batch scheduler) and SIGKILL of the coordinator, at the start of a run, in the middle of a
generation and while an evaluation hangs, on every executor. Afterwards: the exit status and
one line for the user, the run ``interrupted`` (or, after SIGKILL, ``failed`` with the reason),
no process left, and ``l2l resume`` reaches exactly the store of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from fault_harness import Harness, committed, evaluations, finish, status

#: a run slow enough to be interrupted: GENERATIONS generations of 6 evaluations of 0.05 s (the
#: generations after the signal leave a window of about a second, so a loaded machine that
#: notices the second commit late still signals mid-run)
GENERATIONS = 10
STEADY = 'name = "probe"\ncost = 0.05'
#: the same, where the evaluations with x < 0.2 hang (until the executor's 1 s timeout)
HANGING = 'name = "probe"\ncost = 0.05\nfault = "hang"\nbelow = 0.2'
TIMEOUT = "timeout = 1.0"
KEYS = {"serial": TIMEOUT, "process": f"workers = 2\n{TIMEOUT}", "mpi": f"workers = 2\n{TIMEOUT}",
        "dask": f"workers = 2\n{TIMEOUT}"}
WHEN = {"start": {"generations": 0}, "mid": {"generations": 2, "delay": 0.1},
        "hang": {"generations": 1, "delay": 0.3}}
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}

CASES = [("process", sig, when) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
         for when in WHEN]
CASES += [("serial", sig, "mid") for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)]
CASES += [("serial", signal.SIGINT, "hang")]
CASES += [("mpi", signal.SIGINT, "mid"), ("mpi", signal.SIGTERM, "hang"), ("mpi", signal.SIGKILL, "hang")]
CASES += [("dask", signal.SIGINT, "hang"), ("dask", signal.SIGTERM, "mid"), ("dask", signal.SIGKILL, "hang")]

_references: dict[str, list[tuple]] = {}


def reference(tmp_path_factory, kind: str) -> list[tuple]:
    """The evaluations of the uninterrupted run (computed once, with the process executor:
    the same seed gives the same store on every executor)."""
    if kind not in _references:
        h = Harness(tmp_path_factory.mktemp(f"reference-{kind}"))
        config = h.config(optimizee=HANGING if kind == "hang" else STEADY, executor="process",
                          executor_keys=KEYS["process"], generations=GENERATIONS, population=6)
        res = h.run("run", config, "--store", h.root / "ref.db")
        h.tmp_files()
        assert res.returncode == 0, res.stderr
        _references[kind] = evaluations(h.root / "ref.db")
        assert len(_references[kind]) == 6 * GENERATIONS
    return _references[kind]


@pytest.mark.parametrize("executor, sig, when", CASES,
                         ids=[f"{e}-{signal.Signals(s).name}-{w}" for e, s, w in CASES])
def test_signal_then_resume_equals_the_uninterrupted_run(harness, tmp_path_factory, executor, sig, when):
    kind = "hang" if when == "hang" else "steady"
    config = harness.config(optimizee=HANGING if kind == "hang" else STEADY, executor=executor,
                            executor_keys=KEYS[executor], generations=GENERATIONS, population=6)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    res = harness.signal_when(proc, store, sig, group=sig != signal.SIGKILL, **WHEN[when])

    assert res.returncode == EXIT[sig], res.stderr[-3000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    if sig == signal.SIGKILL and executor == "serial":
        # the serial executor's sentinel saw its coordinator die: it marked the run and says so
        assert status(store)[0] == "failed"
        assert "--executor process" in res.lines()[-1], res.stderr
        harness.allow_tmp = ("pymp-",)
    elif sig == signal.SIGKILL:
        # nothing could be written by the killed coordinator: its dead lease says why
        assert status(store)[0] == "running"
        listing = harness.run("runs", "--store", store)
        assert listing.returncode == 0 and " failed " in listing.stdout, listing.stdout
        shown = harness.run("show", "1", "--store", store)
        assert "that wrote it is gone" in shown.stdout, shown.stdout
        harness.allow_tmp = ("pymp-",)  # multiprocessing's socket directory of the killed process
    else:
        name = signal.Signals(sig).name
        assert res.lines() == [f"{'interrupted' if sig == signal.SIGINT else 'stopped by ' + name}: "
                               f"run 1 is kept; continue it with 'l2l resume 1 --store {store}'"]
        assert status(store) == ("interrupted", "KeyboardInterrupt: " if sig == signal.SIGINT
                                 else f"Terminated: {name}")
    assert not harness.leftovers(), "processes outlived their coordinator"

    resumed = harness.run("resume", "1", "--store", store)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert status(store)[0] == "finished"
    assert evaluations(store) == reference(tmp_path_factory, kind)


def test_ctrl_c_twice_still_closes_cleanly(harness):
    """A second Ctrl-C while the run is being closed is held back: the run still ends
    ``interrupted`` with its workers stopped."""
    config = harness.config(optimizee=STEADY, executor="process", executor_keys=KEYS["process"],
                            generations=50, population=6)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    while committed(store) < 1:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    finish(proc, 60)
    assert proc.returncode == 130
    assert status(store)[0] == "interrupted"


def test_sigterm_to_the_coordinator_alone_stops_its_workers(harness):
    """What a scheduler does with ``kill PID``: only the coordinator gets SIGTERM."""
    config = harness.config(optimizee=HANGING, executor="process", executor_keys=KEYS["process"],
                            generations=5, population=6)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    res = harness.signal_when(proc, store, signal.SIGTERM, generations=1, delay=0.3, group=False)
    assert res.returncode == 143 and status(store)[0] == "interrupted", res.stderr
    assert Path(store).exists()


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_kill_9_during_a_hang_in_compiled_code_leaves_no_worker(harness, executor):
    """A worker stuck in compiled code with the GIL held and every signal blocked cannot run
    its watching thread: the kernel's parent-death signal must end it (and the forkserver and
    resource tracker with it)."""
    config = harness.config(optimizee='name = "probe"\nfault = "hang-c"\nbelow = 0.5',
                            executor=executor, executor_keys="workers = 2", generations=3,
                            population=6)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    time.sleep(0.5)
    res = harness.signal_when(proc, store, signal.SIGKILL, generations=0, delay=2.0, group=False)
    assert res.returncode == -9
    assert not harness.leftovers(), "workers outlived their coordinator"
    harness.allow_tmp = ("pymp-", "l2l-dask-")
