"""The ``netlogo-model`` optimizee: any NetLogo 6 model, run headless like a BehaviorSpace run.

Per evaluation: ``random-seed``, the parameters (and ``constants``) set as the model's globals,
``setup``, then ``go`` for ``ticks`` ticks or until the ``stop`` reporter is true, and the
fitness read from ``reporters``. One workspace (one JVM) per worker, opened in ``setup()`` and
reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from l2l import MIN, ConfigError, Evaluation, EvaluationError, Objectives, Optimizee, Space
from l2l.space import Params

from .workspace import first_line, netlogo_literal, netlogo_seed, open_model, require_netlogo

WHO = "netlogo-model"


class NetLogoModel(Optimizee):
    """A NetLogo model as an optimizee.

    ``model``: path of the ``.nlogo`` file. ``parameters``: the space, a table
    ``{global = {low, high[, type, shape]}}`` (l2l's config syntax). ``reporters``: a list of
    NetLogo reporters, or a table ``{objective name = reporter}``. ``directions``: ``"min"`` or
    ``"max"``, one for all or one per reporter. ``ticks``: how many times ``go`` runs at most;
    ``stop``: a reporter that ends the run early when true. ``constants``: globals set to fixed
    values. Values are set before ``setup`` (as BehaviorSpace does: interface globals, or
    code globals that ``setup`` does not clear) unless ``set_after_setup`` is true.
    """

    def __init__(self, model: str = "", parameters: Mapping[str, Any] | None = None,
                 reporters: Sequence[str] | Mapping[str, str] = (),
                 directions: str | Sequence[str] = MIN, ticks: int = 100, stop: str | None = None,
                 setup_command: str = "setup", go_command: str = "go",
                 constants: Mapping[str, Any] | None = None, set_after_setup: bool = False,
                 netlogo_home: str | None = None):
        self.model = model
        self.parameters = parameters
        self.reporters = reporters
        self.directions = directions
        self.ticks = ticks
        self.stop = stop
        self.setup_command = setup_command
        self.go_command = go_command
        self.constants = constants
        self.set_after_setup = set_after_setup
        self.netlogo_home = netlogo_home

    def _reporters(self) -> dict[str, str]:
        reps = self.reporters
        table = dict(reps) if isinstance(reps, Mapping) else {r: r for r in reps}
        if not table:
            raise ConfigError(f"{WHO}: no reporters given (the fitness comes from them)")
        return table

    def space(self) -> Space:
        if not self.model:
            raise ConfigError(f"{WHO}: no model given (model = \"path/to/model.nlogo\")")
        if not self.parameters:
            raise ConfigError(f"{WHO}: no parameters given ([optimizee.parameters] table)")
        return Space.from_config(self.parameters)

    def objectives(self) -> Objectives:
        names = tuple(self._reporters())
        dirs = self.directions
        dirs = (dirs,) * len(names) if isinstance(dirs, str) else tuple(dirs)
        if len(dirs) != len(names):
            raise ConfigError(f"{WHO}: {len(names)} reporters but {len(dirs)} directions")
        return Objectives(names, dirs)

    def setup(self) -> None:
        home = require_netlogo(self.netlogo_home, WHO)
        self._link = open_model(home, Path(self.model).expanduser().resolve(), WHO)
        # compile-only checks: an anonymous procedure is compiled, not run
        for what, code in ([("setup command", self.setup_command), ("go command", self.go_command)]):
            self._check(f"is-anonymous-command? [ -> {code} ]", f"{what} {code!r}")
        for name in [*self.space().names, *(self.constants or {})]:
            self._check(f"is-anonymous-command? [ -> set {name} 0 ]", f"global {name!r}")
        for rep in self._reporters().values():
            self._check(f"is-anonymous-reporter? [ -> {rep} ]", f"reporter {rep!r}")
        if self.stop:
            self._check(f"is-anonymous-reporter? [ -> {self.stop} ]", f"stop reporter {self.stop!r}")

    def _check(self, probe: str, what: str) -> None:
        try:
            self._link.report(probe)
        except Exception as exc:  # noqa: BLE001 - compiler messages name the problem
            raise ConfigError(f"{WHO}: {what} does not compile in {Path(self.model).name}: "
                              f"{first_line(exc)}") from None

    def teardown(self) -> None:
        link = getattr(self, "_link", None)
        if link is not None:
            link.kill_workspace()
        self._link = None

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        if getattr(self, "_link", None) is None:
            self.setup()
        values = {**(self.constants or {}), **params}
        assign = [f"set {name} {netlogo_literal(v)}" for name, v in values.items()]
        loop = (f"repeat {int(self.ticks)} [ if not ({self.stop}) [ {self.go_command} ] ]"
                if self.stop else f"repeat {int(self.ticks)} [ {self.go_command} ]")
        commands = ([f"random-seed {netlogo_seed(seed)}"]
                    + ([self.setup_command] + assign if self.set_after_setup
                       else assign + [self.setup_command]) + [loop])
        try:
            for cmd in commands:
                self._link.command(cmd)
            fitness = tuple(float(self._link.report(r)) for r in self._reporters().values())
        except Exception as exc:  # noqa: BLE001 - a NetLogo runtime error fails this evaluation
            raise EvaluationError(f"NetLogo: {first_line(exc)}") from None
        return Evaluation(fitness=fitness, info={"engine": "netlogo"})
