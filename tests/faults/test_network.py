"""Where the processes of a run listen: loopback only by default, for the mpi executor
(spawned and launched by mpiexec) and the dask executor; a wider binding only on request
(``host = "*"``). No ``hydra_hwloc_xmlfile_*`` files are left in /tmp."""

from __future__ import annotations

import ipaddress
import sys
import time
from pathlib import Path

import psutil
import pytest
from fault_harness import finish, run_exists, status, tagged

from l2l_mpi.environment import wheel_tool

SLOW = 'name = "probe"\ncost = 0.1'
#: one xdist worker runs these one after another: the refused Hydra job leaves its topology file
#: in /tmp, which a concurrent test's "no hydra file left" check would count as its own
pytestmark = pytest.mark.xdist_group("hydra")


def hydra_files() -> set[str]:
    return {p.name for p in Path("/tmp").glob("hydra_hwloc_xmlfile_*")}


def listening(token: str) -> set[tuple[str, int, str]]:
    """(address, port, process) of every listening TCP socket of the test's processes."""
    out = set()
    for proc in tagged(token):
        try:
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    out.add((conn.laddr.ip, conn.laddr.port, proc.name()))
        except psutil.Error:
            continue
    return out


def beyond_loopback(found) -> list:
    return [x for x in found if not ipaddress.ip_address(x[0]).is_loopback]


def sample_while_running(harness, proc, store) -> set:
    """Listening sockets seen while the run is in progress: sampled continuously from the moment
    the run is in the store, i.e. once its executor has started (a spawned MPI singleton's PMI
    port, on every interface, is shut by then: docs/hpc.md), so that on a loaded machine, where
    one sample of every process's sockets takes a good part of a short run, the samples still
    cover all of its generations."""
    seen: set = set()
    while proc.poll() is None:
        if run_exists(store):
            seen |= listening(harness.token)
        time.sleep(0.05)
    return seen


@pytest.mark.parametrize("executor", ["mpi", "dask"])
def test_a_run_listens_on_loopback_only(harness, executor):
    before = hydra_files()
    config = harness.config(optimizee=SLOW, executor=executor, executor_keys="workers = 2",
                            generations=6, population=4)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    seen = sample_while_running(harness, proc, store)
    out, err = finish(proc, 120)
    assert proc.returncode == 0, err
    assert seen, "the run's processes should listen somewhere (on loopback)"
    assert not beyond_loopback(seen), seen
    assert hydra_files() <= before


def test_a_wider_binding_is_explicit(harness):
    config = harness.config(optimizee=SLOW, executor="dask", executor_keys='workers = 1\nhost = "*"',
                            generations=6, population=2)
    store = harness.root / "runs.db"
    proc = harness.start("run", config, "--store", store)
    seen = sample_while_running(harness, proc, store)
    finish(proc, 120)
    assert proc.returncode == 0
    assert {ip for ip, _, _ in seen} == {"0.0.0.0"}, seen


def test_mpiexec_launched_on_loopback_with_gforker(harness):
    gforker = wheel_tool("mpiexec.gforker")
    assert gforker is not None, "the mpich wheel provides mpiexec.gforker"
    config = harness.config(optimizee=SLOW, executor="mpi", generations=6, population=4)
    store = harness.root / "runs.db"
    harness.env["UCX_NET_DEVICES"] = "lo"
    proc = harness.start_command([str(gforker), "-n", "3", sys.executable, "-m", "mpi4py.futures",
                                  "-m", "l2l", "run", str(config), "--store", str(store)])
    seen = sample_while_running(harness, proc, store)
    out, err = finish(proc, 180)
    assert proc.returncode == 0, err
    assert status(store)[0] == "finished"
    assert seen and not beyond_loopback(seen), seen


def test_mpiexec_launched_beyond_loopback_is_refused_unless_allowed(harness):
    hydra = wheel_tool("mpiexec")
    config = harness.config(optimizee=SLOW, executor="mpi", generations=2, population=4)
    store = harness.root / "runs.db"
    argv = [str(hydra), "-n", "3", sys.executable, "-m", "mpi4py.futures", "-m", "l2l", "run",
            str(config), "--store", str(store)]
    refused = harness.start_command(argv)
    out, err = finish(refused, 180)
    lines = [x for x in err.splitlines() if x.startswith("l2l: ")]
    assert lines and "mpi executor: MPI listens beyond loopback (0.0.0.0:" in lines[0], err
    assert "host = \"*\"" in lines[0] and "Traceback" not in err, err

    # (the refusal ends the job by MPI_Abort, after which Hydra leaves its own topology file in
    # /tmp: see docs/hpc.md; a job that ends normally leaves none)
    before = hydra_files()
    allowed = harness.config("wide", optimizee=SLOW, executor="mpi", executor_keys='host = "*"',
                             generations=2, population=4)
    argv[-3] = str(allowed)
    proc = harness.start_command(argv)
    out, err = finish(proc, 180)
    assert proc.returncode == 0, err
    assert hydra_files() <= before
