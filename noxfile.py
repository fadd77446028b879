"""Sessions: one per package (installs only that package and core, runs its tests), lint and
type checks of core, ``faults`` (the fault-injection suite), ``all`` (everything in one
environment), ``demo``, ``soak`` and ``bench``.

    nox                        # what CI runs: lint, types, core, every plugin, faults
    nox -s nest                # one package
    nox -s demo                # the README's demo: a real optimization and its report
    nox -s soak                # releases: 2,000 generations x population 2,000, growth and orphans
    nox -s bench -- --quick   # every bench (not run by default), then the README's table
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv"
# uv trusts its bundled Mozilla roots by default; a machine behind a TLS-inspecting proxy (whose
# CA only the system store holds, as pip's /etc/pip.conf says) then fails with "invalid peer
# certificate: UnknownIssuer". Use the system's certificate store (UV_SYSTEM_CERTS in uv 0.13;
# older releases read UV_NATIVE_TLS).
os.environ.setdefault("UV_SYSTEM_CERTS", "true")
os.environ.setdefault("UV_NATIVE_TLS", os.environ["UV_SYSTEM_CERTS"])
nox.options.error_on_missing_interpreters = True

PLUGINS = sorted(p.name.removeprefix("l2l-") for p in (ROOT / "plugins").glob("l2l-*")
                 if (p / "pyproject.toml").exists())
nox.options.sessions = ["lint", "types", "core", *PLUGINS, "faults"]

#: the demo: fit the HH conductances of an Arbor ball-and-stick cell to its own eFEL features
DEMO_CONFIG = ROOT / "plugins" / "l2l-arbor" / "examples" / "hh_ball_and_stick.toml"
DEMO_PLUGINS = ["-e", "plugins/l2l-arbor"]
PYTEST = ["pytest", "-q", "-p", "no:cacheprovider"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the core package."""
    session.install("ruff")
    session.run("ruff", "check", "core/src")


@nox.session
def types(session: nox.Session) -> None:
    """mypy on the core package."""
    session.install("mypy", "-e", "core[report]")
    session.run("mypy", "--config-file", "core/pyproject.toml", "core/src/l2l")


def uv_binary() -> str | None:
    """The uv that nox itself uses (installed next to it), or None."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


@nox.session
def core(session: nox.Session) -> None:
    """l2l-core alone (with its report extra) and its tests."""
    session.install("-e", "core[report,test]")
    uv = uv_binary()  # lets the scaffold test build its environments fast (it falls back to pip)
    session.run(*PYTEST, "tests/core", *session.posargs, env={"L2L_TEST_UV": uv} if uv else {})


#: plugins whose tests run two at a time (pytest-xdist in their test extra): l2l-tvb's cold run
#: is mostly numba compiling one kernel per model, which a second core halves
PARALLEL_TESTS = {"tvb": ["-n", "2"]}


def plugin_session(name: str) -> None:
    def run(session: nox.Session) -> None:
        session.install("-e", "core[test]", "-e", f"plugins/l2l-{name}[test]")
        session.run(*PYTEST, *PARALLEL_TESTS.get(name, []), f"tests/{name}", *session.posargs)

    run.__doc__ = f"l2l-{name} with core only, and its tests."
    nox.session(name=name)(run)


for _name in PLUGINS:
    plugin_session(_name)


#: what the fault-injection suite needs besides core: the cluster executors, its probe plugin
FAULTS_INSTALL = ["-e", "core[report,test]", "-e", "plugins/l2l-mpi", "-e", "plugins/l2l-dask",
                  "-e", "tests/faults/probe", "psutil", "pytest-xdist"]


@nox.session
def faults(session: nox.Session) -> None:
    """The fault-injection suite (tests/faults): probe matrix, signal matrix, bad input, store
    safety, network bindings; two tests at a time (most of its time is spent waiting)."""
    session.install(*FAULTS_INSTALL)
    session.run(*PYTEST, "-n", "2", "--dist", "loadgroup", "tests/faults", *session.posargs)


@nox.session(default=False)
def soak(session: nox.Session) -> None:
    """Releases only: 2,000 generations x population 2,000 through the CLI; checkpoint size and
    time per generation must stay flat, no process may outlive the run."""
    session.install(*FAULTS_INSTALL)
    session.run("python", "tests/faults/soak.py", *session.posargs)


@nox.session(name="all")
def all_(session: nox.Session) -> None:
    """Every package in one environment, every test."""
    session.install("-e", "core[report,test]",
                    *[arg for n in PLUGINS for arg in ("-e", f"plugins/l2l-{n}[test]")],
                    "-e", "tests/faults/probe", "psutil")
    session.run(*PYTEST, "tests", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Install l2l with the demo's plugin and run a real optimization, then write its report."""
    session.install("-e", "core[report]", *DEMO_PLUGINS)
    session.run("l2l", "list-plugins")
    session.run("l2l", "run", str(DEMO_CONFIG), "--store", "l2l-runs.db", "--report", "l2l-report")
    session.log("Results: l2l-runs.db (try 'l2l runs', 'l2l show 1'); report: l2l-report/report.html."
                f" The environment is {session.virtualenv.location}: activate it to use 'l2l'.")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Every bench in one environment (core, every plugin, the peers of bench/requirements-*.txt;
    L2L gets an environment of its own), then the README's Measured table: ``nox -s bench --
    --quick``. Not among the default sessions."""
    session.env["UV_COMPILE_BYTECODE"] = "1"  # workers start faster with compiled modules
    peers = [arg for req in sorted((ROOT / "bench").glob("requirements-*.txt"))
             if req.name != "requirements-overhead.txt" for arg in ("-r", str(req.relative_to(ROOT)))]
    session.install("-e", "core[report]", *[arg for n in PLUGINS for arg in ("-e", f"plugins/l2l-{n}")],
                    *peers)
    session.run("python", "bench/run_all.py", *session.posargs)
