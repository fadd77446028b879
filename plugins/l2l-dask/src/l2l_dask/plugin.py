"""Hook implementations of l2l-dask."""

from __future__ import annotations

from l2l import Registry, hookimpl


@hookimpl
def l2l_register_executors(registry: Registry) -> None:
    from .executor import DaskExecutor

    registry.add("dask", DaskExecutor)
