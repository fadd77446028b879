"""The probe matrix: every kind of misbehaving evaluation × every executor × single and batch
evaluation. Each fault must come back as a failed evaluation with its reason, the other
evaluations of the same generation must succeed, and nothing may be left running."""

from __future__ import annotations

import json

import pytest

#: the reason each fault must be recorded with
EXPECTED = {
    "raise": "RuntimeError: probe raised",
    "segfault": "killed by signal 11",
    "exit": "exit code 3",
    "sysexit": "SystemExit: 4",
    "kill": "killed by signal 9",
    "hang": "timeout: evaluation exceeded",
    "hang-c": "timeout: evaluation exceeded",
    "nan": "non-finite fitness (nan,)",
    "inf": "non-finite fitness (inf,)",
    "string": "unusable result 'not a number'",
    "wrong-shape": "fitness has 3 values",
    "non-json-info": "info is not JSON-serialisable",
    "huge": "MemoryError",
}
#: faults that end the process they happen in: the serial executor (which evaluates in the
#: coordinator) cannot survive them (tests/faults/test_serial_limits.py covers what it does)
FATAL_IN_PROCESS = {"segfault", "exit", "kill", "hang-c"}
TIMEOUT = 1.5

DRIVER = """
import json, sys
from l2l import Task, build
from l2l_probe import FAULTS, Probe

executor, mode, keys, faults = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
ex = build("executor", executor, **keys)
ex.start(Probe(fault="by-x", batch=mode == "batch"))
xs = [FAULTS.index(f) / 100 for f in faults] + [0.5, 0.7, 0.9]
try:
    out = {t.index: ev for t, ev in ex.map([Task(i, {"x": x}, i) for i, x in enumerate(xs)])}
finally:
    ex.close()
print(json.dumps([[out[i].status, out[i].error, list(out[i].fitness)] for i in range(len(xs))]))
"""

EXECUTORS = {
    "serial": {"timeout": TIMEOUT},
    "process": {"workers": 2, "timeout": TIMEOUT},
    "mpi": {"workers": 2, "timeout": TIMEOUT},
    "dask": {"workers": 2, "timeout": TIMEOUT},
}


@pytest.mark.parametrize("mode", ["single", "batch"])
@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_every_fault_is_a_failed_evaluation_with_its_reason(harness, executor, mode):
    faults = [f for f in EXPECTED if executor != "serial" or f not in FATAL_IN_PROCESS]
    res = harness.run(executor, mode, json.dumps(EXECUTORS[executor]), json.dumps(faults),
                      script=DRIVER, timeout=240)
    assert_outcomes(res, faults)


def assert_outcomes(res, faults: list[str]) -> None:
    """Each fault failed with its reason, the three good evaluations after them succeeded."""
    assert res.returncode == 0, res.stderr[-3000:]
    outcomes = json.loads(res.stdout.strip().splitlines()[-1])
    for fault, (status, error, _) in zip(faults, outcomes):
        assert status == "failed" and EXPECTED[fault] in (error or ""), (fault, error)
    for x, (status, error, fitness) in zip([0.5, 0.7, 0.9], outcomes[len(faults):]):
        assert status == "ok" and fitness == pytest.approx([(x - 0.7) ** 2]), error
    assert "Traceback" not in res.stderr, res.stderr[-3000:]


ASYNC_DRIVER = """
import json, sys
from l2l import Experiment, build
from l2l.experiment import Stop
from l2l_probe import FAULTS, Probe

executor, keys, faults = sys.argv[1], json.loads(sys.argv[3]), json.loads(sys.argv[4])
xs = [FAULTS.index(f) / 100 for f in faults] + [0.5, 0.7, 0.9]
exp = Experiment(Probe(fault="by-x"), build("optimizer", "gs", values={"x": xs}),
                 build("executor", executor, **keys), seed=1,
                 stop=Stop(max_evaluations=len(xs)), mode="async")
result = exp.run()
width = exp.store.last_checkpoint(result.run_id)[1]["loop"]["width"]
out = {i.generation * width + i.index: i.evaluation for i in exp.store.individuals(result.run_id)}
print(json.dumps([[out[i].status, out[i].error, list(out[i].fitness)] for i in range(len(xs))]))
"""


@pytest.mark.parametrize("executor", ["process", "mpi", "dask"])
def test_every_fault_is_a_failed_evaluation_in_async_mode(harness, executor):
    """The same matrix through the async loop (one-task submissions, completion order)."""
    faults = list(EXPECTED)
    res = harness.run(executor, "async", json.dumps(EXECUTORS[executor]), json.dumps(faults),
                      script=ASYNC_DRIVER, timeout=240)
    assert_outcomes(res, faults)
