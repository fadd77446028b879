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

    ``run.run_id``, ``run.name``, ``run.seed``, ``run.store``, the part instances
    (``run.optimizee``, ``run.optimizer``, ``run.executor``) and ``run.config`` (as stored: the
    part tables as written, plus ``plugins``, the qualified ``distribution:name`` of each part)
    are available; ``run.generation`` is the first generation about to be evaluated (> 0 after
    a resume). To recognise your own optimizee, test its class
    (``isinstance(run.optimizee, MyModel)``): the name in the config may be qualified.

    Example::

        @hookimpl
        def l2l_run_start(run):
            print(f"run {run.run_id} starts at generation {run.generation}")
    """


@hookspec
def l2l_generation_done(run: RunInfo, generation: int, individuals: Sequence[Individual]) -> None:
    """A generation has been evaluated, told to the optimizer and committed to the store.

    ``individuals`` holds every candidate of the generation in index order, failures included
    (``ind.evaluation.ok`` is False and ``ind.evaluation.error`` says why); a whole generation
    may fail. Generations are numbered from 0, as in ``l2l show`` and the exports. Compare
    fitness through the objectives' loss (lower is better, whatever the directions).

    In async mode (``[experiment] mode = "async"``) there are no generations: the hook fires
    after each store commit, ``generation`` is the commit's number and ``individuals`` the
    evaluations committed (in completion order; their ``generation``/``index`` are the rows
    ``(ask // in_flight, ask % in_flight)``).

    Example::

        @hookimpl
        def l2l_generation_done(run, generation, individuals):
            objectives = run.optimizee.objectives()
            ok = [objectives.loss(i.evaluation.fitness) for i in individuals if i.evaluation.ok]
            best = f"{min(ok):.4g}" if ok else "-"  # every evaluation may have failed
            print(f"generation {generation}: best loss {best}, {len(individuals) - len(ok)} failed")
    """


@hookspec
def l2l_run_end(run: RunInfo, status: str) -> None:
    """A run ends, also when it fails. ``status`` is one of

    - ``"finished"``: every generation was evaluated;
    - ``"stopped"``: a stop criterion held (target, patience, evaluations, time) or the
      optimizer had nothing left to ask;
    - ``"failed"``: an error ended it (the store records the error);
    - ``"interrupted"``: the user stopped it (Ctrl-C).

    After ``"failed"`` and ``"interrupted"`` every committed generation is kept and
    ``l2l resume`` continues from the last one.

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
    (short) name of the run's optimizee and ``optimizee`` an instance rebuilt from the run's
    config by the plugin the run used (not set up); return None unless the optimizee is one of
    yours. ``outdir`` is the folder ``optimizee/`` inside the report's directory
    (``l2l report RUN -o DIR`` → ``DIR/optimizee/``), shared by every plugin's figures and
    removed when none writes into it: prefix your file names to avoid clashes. Write PNG files
    there and return their paths; the report embeds them with their file names as captions.
    An exception is shown in the report page; the other figures are still written.

    Example::

        @hookimpl
        def l2l_report_figures(optimizee_name, optimizee, best, outdir):
            if optimizee_name != "arbor-cell":
                return None
            path = outdir / "trace.png"
            plot_traces(optimizee, best.params, path)
            return [path]
    """
