"""Hook specifications of l2l: the whole contract between the core and its plugins.

A plugin is a module (or object) with functions decorated by ``l2l.hookimpl`` and named as
below, announced through an entry point in the group ``l2l``::

    # pyproject.toml
    [project.entry-points.l2l]
    l2l-mine = "l2l_mine.plugin"

Registration hooks receive a registry and add classes to it; lifecycle hooks observe a run.
Hooks run in the coordinating process only. A registration hook that raises is reported
by ``l2l list-plugins`` as the plugin's failure; a lifecycle hook that raises aborts the run
(the store keeps every generation committed before).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import pluggy

if TYPE_CHECKING:
    from .evaluation import Individual
    from .experiment import RunInfo
    from .plugins import Registry

hookspec = pluggy.HookspecMarker("l2l")
hookimpl = pluggy.HookimplMarker("l2l")


@hookspec
def l2l_register_optimizers(registry: Registry) -> None:
    """Register optimizer classes.

    Fires once, when plugins are discovered (on the first use of the plugin manager).
    ``registry.add(name, cls)`` makes ``cls`` available under ``name`` in configs
    (``[optimizer] name = ...``) and in ``l2l.build("optimizer", name)``. The class must follow
    :class:`l2l.Optimizer` (``l2l.testing.check_optimizer`` verifies it).

    Example::

        @hookimpl
        def l2l_register_optimizers(registry):
            registry.add("my-es", MyES)
    """


@hookspec
def l2l_register_optimizees(registry: Registry) -> None:
    """Register optimizee classes.

    Fires once at discovery, like :func:`l2l_register_optimizers`. The class must follow
    :class:`l2l.Optimizee` (``l2l.testing.check_optimizee`` verifies an instance).

    Example::

        @hookimpl
        def l2l_register_optimizees(registry):
            registry.add("nest-brunel", BrunelNetwork)
    """


@hookspec
def l2l_register_executors(registry: Registry) -> None:
    """Register executor classes.

    Fires once at discovery. The class must follow :class:`l2l.Executor` (``start``,
    ``submit``, ``map``, ``close``; ``l2l.testing.check_executor`` verifies it).

    Example::

        @hookimpl
        def l2l_register_executors(registry):
            registry.add("mpi", MPIExecutor)
    """


@hookspec
def l2l_run_start(run: RunInfo) -> None:
    """A run starts (or resumes): its parts are built and the executor's workers are up.

    ``run.run_id``, ``run.name``, ``run.seed``, ``run.config`` and the part instances
    (``run.optimizee``, ``run.optimizer``, ``run.executor``) are available;
    ``run.generation`` is the first generation about to be evaluated (> 0 after a resume).

    Example::

        @hookimpl
        def l2l_run_start(run):
            print(f"run {run.run_id} starts at generation {run.generation}")
    """


@hookspec
def l2l_generation_done(run: RunInfo, generation: int, individuals: Sequence[Individual]) -> None:
    """A generation has been evaluated, told to the optimizer and committed to the store.

    ``individuals`` holds every candidate of the generation in index order, failures included
    (``ind.evaluation.ok`` is False and ``ind.evaluation.error`` says why).

    Example::

        @hookimpl
        def l2l_generation_done(run, generation, individuals):
            best = min(i.evaluation.fitness[0] for i in individuals if i.evaluation.ok)
            print(generation, best)
    """


@hookspec
def l2l_run_end(run: RunInfo, status: str) -> None:
    """A run ends. ``status`` is ``"finished"``, ``"stopped"`` (a stop criterion or the
    optimizer was done) or ``"failed"`` (an error or interruption; committed generations are
    kept and ``l2l resume`` continues from them).

    Example::

        @hookimpl
        def l2l_run_end(run, status):
            notify(f"{run.name}: {status}")
    """


@hookspec
def l2l_report_figures(optimizee_name: str, optimizee: Any, best: Individual,
                       outdir: Path) -> list[Path] | None:
    """Contribute figures for the best individual to ``l2l report``.

    Fires once per plugin when a report is written. ``optimizee_name`` is the registered
    name of the run's optimizee and ``optimizee`` an instance rebuilt from the run's config
    (not set up); return None unless the optimizee is one of yours. Write PNG files into
    ``outdir`` and return their paths; the report embeds them with their file names as
    captions.

    Example::

        @hookimpl
        def l2l_report_figures(optimizee_name, optimizee, best, outdir):
            if optimizee_name != "arbor-cell":
                return None
            path = outdir / "trace.png"
            plot_traces(optimizee, best.params, path)
            return [path]
    """
