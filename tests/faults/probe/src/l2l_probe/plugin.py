"""Hook implementations of l2l-probe."""

from __future__ import annotations

from l2l import Registry, hookimpl


@hookimpl
def l2l_register_optimizees(registry: Registry) -> None:
    from .probe import Probe

    registry.add("probe", Probe)
