"""One error convention for plugin code: an exception raised where a run starts (an optimizer's
start(), an optimizee's space() or setup(), an executor's start()) ends ``l2l run`` with one line
naming the part, its plugin and the problem, exit status 2, under every executor; a setup
failure on lazily prepared workers fails the run instead of recording failed evaluations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from l2l import ConfigError, Experiment, PluginError, SetupError, build
from l2l.plugins import Plugins

FAULTY = '''
from concurrent.futures import ThreadPoolExecutor

from l2l import ConfigError, Executor, Float, Optimizee, Space, hookimpl, run_tasks
from l2l.executor import prepared
from l2l.optimizers.random_search import RandomSearch


class Fine(Optimizee):
    def space(self):
        return Space([Float("x", -1.0, 1.0)])

    def evaluate(self, params, seed):
        return params["x"] ** 2


class BadSpace(Fine):
    def space(self):
        raise ValueError("no such morphology file")


class BadSetup(Fine):
    def setup(self):
        raise ValueError("simulator license expired")


class BadStart(RandomSearch):
    def start(self, problem):
        super().start(problem)
        raise ValueError("cannot factor the covariance")


class RefusingStart(RandomSearch):
    def start(self, problem):
        raise ConfigError("needs at least two parameters")


class DownExecutor(Executor):
    def start(self, optimizee):
        raise RuntimeError("cluster unreachable")


class DirectThreads(Executor):
    """Calls optimizee.setup() itself in start()."""

    def __init__(self, workers: int = 2):
        self.workers = workers

    def start(self, optimizee):
        optimizee.setup()
        self._optimizee, self._pool = optimizee, ThreadPoolExecutor(self.workers)

    def submit(self, tasks):
        return self._pool.submit(run_tasks, self._optimizee, list(tasks))

    def close(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown()


class LazyThreads(DirectThreads):
    """Hosts the optimizee like the MPI and Dask executors: set up on first use per worker."""

    def start(self, optimizee):
        self._optimizee, self._pool = optimizee, ThreadPoolExecutor(self.workers)

    def submit(self, tasks):
        return self._pool.submit(lambda: run_tasks(prepared("run", self._optimizee), list(tasks)))


@hookimpl
def l2l_register_optimizees(registry):
    registry.add("fine", Fine)
    registry.add("bad-space", BadSpace)
    registry.add("bad-setup", BadSetup)


@hookimpl
def l2l_register_optimizers(registry):
    registry.add("bad-start", BadStart)
    registry.add("refusing-start", RefusingStart)


@hookimpl
def l2l_register_executors(registry):
    registry.add("down", DownExecutor)
    registry.add("direct-threads", DirectThreads)
    registry.add("lazy-threads", LazyThreads)
'''


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "faultyplug.py").write_text(textwrap.dedent(FAULTY))
    info = site / "l2l_faulty-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: l2l-faulty\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[l2l]\nl2l-faulty = faultyplug\n")
    return site


def run_cli(site, tmp_path, optimizee="fine", optimizer="random", executor="serial",
            *extra: str) -> subprocess.CompletedProcess:
    workers = "" if executor in ("serial", "down") else "workers = 2\n"
    (tmp_path / "exp.toml").write_text(
        f'[experiment]\ngenerations = 2\n[optimizee]\nname = "{optimizee}"\n'
        f'[optimizer]\nname = "{optimizer}"\npopulation = 4\n'
        f'[executor]\nname = "{executor}"\n{workers}')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "l2l", *extra, "run", str(tmp_path / "exp.toml"),
                           "--store", str(tmp_path / "runs.db")],
                          env=env, capture_output=True, text=True, timeout=120)


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


@pytest.mark.parametrize("parts, expected", [
    (("fine", "bad-start", "serial"),
     "l2l: error: optimizer 'bad-start' (l2l-faulty): start() raised ValueError: cannot factor "
     "the covariance"),
    (("fine", "refusing-start", "serial"),
     "l2l: error: optimizer 'refusing-start' (l2l-faulty): needs at least two parameters"),
    (("bad-space", "random", "serial"),
     "l2l: error: optimizee 'bad-space' (l2l-faulty): space() raised ValueError: no such "
     "morphology file"),
    (("fine", "random", "down"),
     "l2l: error: executor 'down' (l2l-faulty): start() raised RuntimeError: cluster unreachable"),
])
def test_an_exception_where_a_run_starts_is_one_line_naming_the_plugin(site, tmp_path, parts,
                                                                      expected):
    assert one_line(run_cli(site, tmp_path, *parts)).strip() == expected


@pytest.mark.parametrize("executor", ["serial", "process", "direct-threads", "lazy-threads"])
def test_a_failing_setup_fails_the_run_under_every_executor(site, tmp_path, executor):
    line = one_line(run_cli(site, tmp_path, "bad-setup", "random", executor))
    assert line.startswith("l2l: error: optimizee 'bad-setup' (l2l-faulty): ")
    assert "ValueError: simulator license expired" in line
    # no failed evaluations and no "finished": a lazily hosting executor fails the run it began
    if (tmp_path / "runs.db").exists():
        with sqlite3.connect(tmp_path / "runs.db") as con:
            assert con.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == 0
            assert [r[0] for r in con.execute("SELECT status FROM runs")] in ([], ["failed"])


def test_debug_shows_the_traceback_of_the_plugin_code(site, tmp_path):
    proc = run_cli(site, tmp_path, "fine", "bad-start", "serial", "--debug")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and 'raise ValueError("cannot factor the covariance")' in proc.stderr
    assert proc.stderr.rstrip().endswith("start() raised ValueError: cannot factor the covariance")


def test_the_python_api_raises_the_same_errors(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    import faultyplug

    plugins = Plugins(discover=False)
    plugins.register(faultyplug, "l2l-faulty")
    with pytest.raises(PluginError, match="start\\(\\) raised ValueError") as info:
        Experiment(faultyplug.Fine(), faultyplug.BadStart(population=4), plugins=plugins).run()
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(ConfigError, match="needs at least two parameters"):
        Experiment(faultyplug.Fine(), faultyplug.RefusingStart(population=4), plugins=plugins).run()
    with pytest.raises(SetupError, match="optimizee 'bad-setup' .*simulator license expired"):
        Experiment(faultyplug.BadSetup(), build("optimizer", "random", population=4),
                   faultyplug.LazyThreads(), plugins=plugins).run()

    class RefusingSetup(faultyplug.Fine):
        def setup(self):
            raise ConfigError("refusing-setup: no licence file configured")

    # a ConfigError keeps its class where setup() runs in this process
    with pytest.raises(ConfigError, match="^optimizee .*RefusingSetup .*: refusing-setup: no licence"):
        Experiment(RefusingSetup(), build("optimizer", "random", population=4), plugins=plugins).run()

    class Unregistered(faultyplug.BadSpace):
        pass

    # a part no plugin registered is named by its class and module
    with pytest.raises(PluginError, match=f"optimizee .*Unregistered \\(module {__name__}\\): space"):
        Experiment(Unregistered(), build("optimizer", "random", population=4), plugins=plugins).run()


def test_an_evaluation_error_is_recorded_in_its_own_words():
    from l2l import EvaluationError, Float, Optimizee, Space, Task
    from l2l.executor import run_tasks

    class Silent(Optimizee):
        def space(self):
            return Space([Float("x", 0.0, 1.0)])

        def evaluate(self, params, seed):
            raise EvaluationError("the neuron did not spike")

    [ev] = run_tasks(Silent(), [Task(0, {"x": 0.5}, 1)])
    assert not ev.ok and ev.error == "the neuron did not spike"
