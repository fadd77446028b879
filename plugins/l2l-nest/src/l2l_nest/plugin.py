"""Hook implementations of l2l-nest: registers ``nest-reservoir`` and ``nest-brunel``."""

from __future__ import annotations

from l2l import hookimpl
from l2l.plugins import Registry


@hookimpl
def l2l_register_optimizees(registry: Registry) -> None:
    from .brunel import BrunelNetwork
    from .reservoir import ReservoirDigits

    registry.add("nest-reservoir", ReservoirDigits)
    registry.add("nest-brunel", BrunelNetwork)
