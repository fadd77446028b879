"""What the serial executor cannot survive (it evaluates in the coordinator): a segfault,
``os._exit()``, SIGKILL of its own process, a hang in compiled code with signals blocked. The
run is then marked failed with the reason, the user reads one line suggesting
``--executor process``, and the run resumes with that executor."""

from __future__ import annotations

import signal

import pytest
from fault_harness import status

FATAL = {"segfault": -signal.SIGSEGV, "exit": 3, "kill": -signal.SIGKILL}


@pytest.mark.parametrize("fault", list(FATAL))
def test_a_fatal_evaluation_is_reported_with_the_way_out(harness, fault):
    config = harness.config(optimizee=f'name = "probe"\nfault = "{fault}"\nbelow = 0.3',
                            executor="serial", generations=3, population=6)
    store = harness.root / "runs.db"
    res = harness.run("run", config, "--store", store)
    assert res.returncode == FATAL[fault], res.stderr
    last = res.lines()[-1]
    assert last.startswith("l2l: error: run 1 failed: its process ") and "serial executor" in last
    assert last.endswith(f"continue it with 'l2l resume 1 --store {store} --executor process'")
    state, error = status(store)
    assert state == "failed" and "cannot survive a segfault, os._exit(), SIGKILL" in error
    harness.allow_tmp = ("pymp-",)

    resumed = harness.run("resume", "1", "--store", store, "--executor", "process", "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert status(store)[0] == "finished"


def test_ctrl_c_ends_an_evaluation_stuck_in_compiled_code(harness):
    """hang-c blocks every signal and sleeps in libc holding the GIL: Ctrl-C cannot reach
    Python, so the sentinel kills the process after L2L_SENTINEL_GRACE (3 s here) and says so."""
    config = harness.config(optimizee='name = "probe"\nfault = "hang-c"\nbelow = 0.3',
                            executor="serial", executor_keys="timeout = 1.0", generations=3,
                            population=6)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    res = harness.signal_when(proc, store, signal.SIGINT, generations=0, delay=0.5)
    assert res.returncode == -signal.SIGKILL
    assert "did not return to Python within 3 s of the signal" in res.lines()[-1], res.stderr
    assert "--executor process" in res.lines()[-1]
    assert status(store)[0] == "failed"
    harness.allow_tmp = ("pymp-",)
