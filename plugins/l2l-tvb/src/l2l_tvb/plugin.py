"""Hook implementations of l2l-tvb."""

from __future__ import annotations

from l2l import hookimpl


@hookimpl
def l2l_register_optimizees(registry) -> None:
    from .optimizee import TvbFc

    registry.add("tvb-fc", TvbFc)
