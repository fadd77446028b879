"""The MPI launcher's environment: finding the mpich wheel's ``mpiexec`` and hiding the
launcher from simulators that refuse to run under one (NEST's PyPI wheel exits when it sees
``PMI_RANK``, ``PMIX_RANK``, ``MPI_LOCALNRANKS`` or ``OMPI_COMM_WORLD_SIZE``)."""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
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


def wheel_mpiexec() -> Path | None:
    """The ``mpiexec`` installed by the ``mpich`` wheel (in the environment's ``bin``), if any."""
    try:
        dist = md.distribution("mpich")
    except md.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if f.name == "mpiexec" and f.parent.name in ("bin", "scripts"):
            path = Path(str(dist.locate_file(f))).resolve()
            if path.is_file():
                return path
    return None


def ensure_mpiexec() -> str | None:
    """Put the mpich wheel's ``mpiexec`` first on PATH (a singleton MPI process execs
    ``mpiexec`` from PATH to spawn workers); return the ``mpiexec`` that will be used."""
    wheel = wheel_mpiexec()
    if wheel is not None and shutil.which("mpiexec") != str(wheel):
        os.environ["PATH"] = f"{wheel.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return shutil.which("mpiexec")
