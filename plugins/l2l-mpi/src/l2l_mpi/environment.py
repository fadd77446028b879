"""The MPI launcher's environment: finding the mpich wheel's ``mpiexec`` and hiding the
launcher from simulators that refuse to run under one (NEST's PyPI wheel exits when it sees
``PMI_RANK``, ``PMIX_RANK``, ``MPI_LOCALNRANKS`` or ``OMPI_COMM_WORLD_SIZE``)."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import shutil
import sys
import tempfile
from pathlib import Path

#: Prefixes of variables set by MPI launchers (MPICH/Hydra, PMIx, Open MPI, Intel MPI, MVAPICH).
LAUNCHER_PREFIXES = ("PMI_", "PMIX_", "OMPI_", "HYDRA_", "HYDI_", "MPI_LOCALNRANKS",
                     "MPI_LOCALRANKID", "I_MPI_", "MV2_", "MPIR_")


def clean_launcher_environment() -> list[str]:
    """Remove the launcher's variables from ``os.environ``; return their names."""
    removed = sorted(k for k in os.environ if k.startswith(LAUNCHER_PREFIXES))
    for key in removed:
        del os.environ[key]
    return removed


def wheel_tool(name: str) -> Path | None:
    """A program installed by the ``mpich`` wheel (in the environment's ``bin``), if any."""
    try:
        dist = md.distribution("mpich")
    except md.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if f.name == name and f.parent.name in ("bin", "scripts"):
            path = Path(str(dist.locate_file(f))).resolve()
            if path.is_file():
                return path
    return None


def wheel_mpiexec() -> Path | None:
    """The ``mpiexec`` installed by the ``mpich`` wheel, if any."""
    return wheel_tool("mpiexec")


#: the launcher :func:`use_gforker` put on PATH
_launcher: list[str | None] = [None]

#: what ``mpiexec`` on PATH runs in spawn mode: gforker in a session of its own, ended (with
#: its ranks) when the coordinator that started it dies
_WRAPPER = """#!{python} -IS
# l2l-mpi: the mpich wheel's gforker in a session of its own (a Ctrl-C at the terminal reaches
# the l2l coordinator only, which stops the workers), ended with its ranks if that coordinator
# dies (even by kill -9)
import os, select, signal, subprocess, sys, time
owner = os.getppid()
os.setsid()
child = subprocess.Popen([{gforker!r}] + sys.argv[1:])
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
try:
    watch = os.pidfd_open(owner)
except (AttributeError, OSError):
    watch = None
while child.poll() is None:
    if watch is not None:
        gone = bool(select.select([watch], [], [], 0.5)[0])
    else:
        time.sleep(0.5)
        gone = os.getppid() != owner
    if gone:  # the ranks may still be ending after a normal shutdown: give them 10 s
        deadline = time.monotonic() + 10
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if child.poll() is None:
            os.killpg(0, signal.SIGKILL)
sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)
"""


def use_gforker() -> Path | None:
    """Make ``mpiexec`` on PATH the mpich wheel's ``gforker`` process manager (a singleton that
    spawns workers execs ``mpiexec`` from PATH): it starts ranks on this machine over socket
    pairs and opens no TCP port (Hydra listens on every interface). A small launcher runs it
    in a session of its own (a terminal's Ctrl-C would reach it and make it signal every rank)
    and ends it, with its ranks, when the coordinator dies.
    The launcher lives in a private directory of the user's cache. Returns it (None: no wheel)."""
    gforker = wheel_tool("mpiexec.gforker")
    if gforker is None:
        return None
    text = _WRAPPER.format(python=sys.executable, gforker=str(gforker))
    tag = hashlib.sha256(text.encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "l2l" / "mpi" / tag
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        if cache.stat().st_uid != os.getuid() or cache.stat().st_mode & 0o022:
            raise PermissionError(f"{cache} is not private")
    except OSError:
        cache = Path(tempfile.mkdtemp(prefix="l2l-mpi-"))
    launcher = cache / "mpiexec"
    if not launcher.is_file() or launcher.read_text() != text:
        tmp = cache / f"mpiexec.{os.getpid()}"
        tmp.write_text(text)
        tmp.chmod(0o700)
        tmp.replace(launcher)
    if shutil.which("mpiexec") != str(launcher):
        os.environ["PATH"] = f"{cache}{os.pathsep}{os.environ.get('PATH', '')}"
    _launcher[0] = str(launcher)
    return launcher


def ensure_mpiexec() -> str | None:
    """Put the mpich wheel's ``mpiexec`` first on PATH (a singleton MPI process execs
    ``mpiexec`` from PATH to spawn workers), unless :func:`use_gforker` chose one; return the
    ``mpiexec`` that will be used."""
    current = shutil.which("mpiexec")
    if current is not None and current == _launcher[0]:
        return current  # use_gforker's launcher
    wheel = wheel_mpiexec()
    if wheel is not None and current != str(wheel):
        os.environ["PATH"] = f"{wheel.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return shutil.which("mpiexec")
