"""Hook implementations of l2l-mpi."""

from __future__ import annotations

from l2l import Registry, hookimpl


@hookimpl
def l2l_register_executors(registry: Registry) -> None:
    from .executor import MPIExecutor

    registry.add("mpi", MPIExecutor)
