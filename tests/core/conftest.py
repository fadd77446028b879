"""Fixtures for the core's tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from fault_harness import answer_ctrl_c, committed, experiment_toml

answer_ctrl_c()

@pytest.fixture
def tmp_store(tmp_path):
    return str(tmp_path / "runs.db")


@pytest.fixture
def function_config(tmp_path):
    """``write(experiment, executor=..., workers=..., cost=..., population=..., noise=...)``:
    the path of an experiment file whose ``[experiment]`` table holds ``experiment`` (lines),
    over the ``function`` optimizee (rastrigin, 4-D, ``cost`` seconds per evaluation,
    Gaussian ``noise`` drawn from the seed) and the ``ga``; ``workers`` is set for the
    process executor only. Used by the kill -9 / resume tests of both loop modes."""
    def write(experiment: str, executor: str = "serial", workers: int = 2, cost: float = 0.02,
              population: int = 10, noise: float = 0.0):
        path = tmp_path / f"exp-{executor}-{cost}-{len(list(tmp_path.glob('exp-*')))}.toml"
        optimizee = (f'name = "function"\nfunction = "rastrigin"\ndimension = 4\n'
                     f"cost = {cost}\nnoise = {noise}")
        path.write_text(experiment_toml(experiment, optimizee, population, executor,
                                        f"workers = {workers}" if executor == "process" else ""))
        return path
    return write


def kill_mid_run(config, store: str, at_least: int, settle: float = 0.0) -> int:
    """Start ``l2l run config``, ``kill -9`` its process group once ``store`` holds
    ``at_least`` checkpoints (and ``settle`` s more), and return the checkpoints then."""
    proc = subprocess.Popen([sys.executable, "-m", "l2l", "run", str(config), "--store", store],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while committed(store) < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(settle)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return committed(store)


@pytest.fixture
def killed_mid_run():
    """:func:`kill_mid_run`."""
    return kill_mid_run
