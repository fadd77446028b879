"""Hook implementations of l2l-arbor: the ``arbor-cell`` optimizee and its report figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from l2l import hookimpl


@hookimpl
def l2l_register_optimizees(registry: Any) -> None:
    from .optimizee import ArborCell

    registry.add("arbor-cell", ArborCell)


@hookimpl
def l2l_report_figures(optimizee_name: str, optimizee: Any, best: Any, outdir: Path) -> list[Path] | None:
    if optimizee_name.rpartition(":")[2] != "arbor-cell":
        return None
    from .figures import plot_fit

    return [plot_fit(optimizee, best.params, Path(outdir) / "arbor-cell-traces.png")]
