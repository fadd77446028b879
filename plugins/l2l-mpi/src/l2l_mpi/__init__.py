"""l2l-mpi: the ``mpi`` executor (mpi4py.futures workers, each supervising an evaluation child)."""

from __future__ import annotations

from .executor import MPIExecutor

__all__ = ["MPIExecutor"]
