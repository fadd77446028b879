"""Hook implementations of l2l-netlogo: the two optimizees and the colony picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from l2l import Individual, Registry, hookimpl


@hookimpl
def l2l_register_optimizees(registry: Registry) -> None:
    from .ants import AntColony
    from .model import NetLogoModel

    registry.add("netlogo-model", NetLogoModel)
    registry.add("netlogo-ants", AntColony)


@hookimpl
def l2l_report_figures(optimizee_name: str, optimizee: Any, best: Individual,
                       outdir: Path) -> list[Path] | None:
    if optimizee_name != "netlogo-ants":
        return None
    from .render import render_colony

    return [render_colony(optimizee, best.params, best.seed, Path(outdir) / "ant_colony_world.png")]
