"""Importing NEST quietly and safely, and resetting its kernel per evaluation.

NEST's PyPI wheel is built without MPI and exits the whole process when it sees an MPI
launcher's rank variable (``PMI_RANK`` from MPICH/Hydra, ``PMIX_RANK`` from Open MPI/PMIx)
together with more than one rank. Workers started by an MPI executor carry those variables, so
they are removed from the environment before the first import. The import banner is switched off
with ``PYNEST_QUIET`` and kernel messages below errors with ``nest.verbosity``.
"""

from __future__ import annotations

import os
from types import ModuleType

from l2l import ConfigError

#: Variables whose presence makes a non-MPI NEST build believe it runs under an MPI launcher.
LAUNCHER_RANK_VARIABLES = ("PMI_RANK", "PMIX_RANK")


def import_nest() -> ModuleType:
    """Import NEST once per process without its banner, messages or launcher check."""
    for name in LAUNCHER_RANK_VARIABLES:
        os.environ.pop(name, None)
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    return nest


def reset_kernel(seed: int, threads: int, resolution: float) -> ModuleType:
    """A fresh NEST kernel seeded with ``seed`` (NEST's ``rng_seed``, 1 .. 2**31 - 1)."""
    if int(threads) < 1:
        raise ConfigError(f"local_num_threads must be at least 1, got {threads}")
    if not float(resolution) > 0:
        raise ConfigError(f"resolution must be positive, got {resolution}")
    nest = import_nest()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"rng_seed": nest_seed(seed), "local_num_threads": int(threads),
                          "resolution": float(resolution), "print_time": False})
    return nest


def nest_seed(seed: int) -> int:
    """Map any integer seed into NEST's accepted range of ``rng_seed``."""
    return int(seed) % (2**31 - 2) + 1
