"""``tvb-fc``: fit a TVB brain network model to functional connectivity."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

import numpy as np

from l2l import MAX, MIN, ConfigError, Evaluation, Objectives, Optimizee, Space

from .connectome import Connectome, load_connectome
from .fc import BOLD_INTERIM_PERIOD, bold_signal, fc_distance, fc_matrix, load_target, pearson, upper

#: optimizable names that are not model parameters
NETWORK_PARAMS = ("coupling", "speed", "nsig")
ENGINES = ("batched", "tvb")
BATCHED_INTEGRATORS = ("HeunStochastic", "HeunDeterministic")


class TvbFc(Optimizee):
    """A TVB region-level network; fitness: Pearson correlation between the upper triangles
    of the simulated FC and a target FC (default: the structural connectivity weights).

    ``parameters``: ``{name: {low=, high=}}`` of optimized parameters: any parameter of
    ``model``, ``coupling`` (global coupling strength, the coupling's ``a``), ``coupling_<p>``
    (other parameters of the coupling function), ``speed`` (mm/ms), ``nsig`` (noise).
    Everything else: ``model_params``, ``coupling_a``, ``coupling_params``, ``speed``, ``nsig``
    or the model's defaults. ``engine``: ``batched`` (whole chunks in one array program, CPU
    numba or GPU cupy, kernels generated from the model's RateML description: the TVB models
    l2l-tvb ships as RateML XML, ``rateml:<name>`` for tvb-contrib's RateML models, or the path
    of a RateML ``.xml`` file; the model's own coupling or TVB's Linear, Difference or Kuramoto
    on its coupling variables; Heun) or ``tvb`` (tvb-library itself: any TVB model class,
    coupling, integrator, monitor). Without ``parameters``, a RateML model's Constants with a
    domain (and ``coupling`` when ``global_coupling`` has a range) are optimized within it; a
    parameter entry without ``low``/``high`` takes its domain. ``monitor``: ``TemporalAverage`` (FC of the signal averaged over
    ``period`` ms) or ``Bold`` (TVB's BOLD, one sample per ``bold_period`` ms); ``transient``
    ms are discarded. ``target``: ``"sc"`` or an FC file (.npy/.txt/.csv). ``distance``:
    ``None``, ``"frobenius"`` or ``"ks"`` adds a second objective (minimised).
    ``state_range``: ``{state variable: [low, high]}``, the range the random initial history
    is drawn from (as setting TVB's ``model.state_variable_range``; unnamed variables and
    ``None``: TVB's range), on both engines. ``noise_seed``: ``None`` (each evaluation draws its
    noise and initial history from its own seed) or an integer used by every evaluation instead
    (common random numbers: the fitness becomes a deterministic function of the parameters, as
    finite-difference gradients need; the run's seed still drives the optimizer).
    """

    @property
    def fresh_seeds(self) -> str:  # type: ignore[override]
        """What ``l2l validate`` varies on fresh seeds (this optimizee has no held-out data)."""
        if self.noise_seed is not None:
            return (f"nothing: noise_seed = {self.noise_seed} gives every evaluation the same noise and "
                    "initial history (the training fitness again)")
        return "the fitness with new noise and random initial history"

    def __init__(self, parameters: Mapping[str, Mapping[str, Any]] | None = None,
                 engine: str = "batched", model: str = "Generic2dOscillator",
                 model_params: Mapping[str, Any] | None = None,
                 state_range: Mapping[str, Sequence[float]] | None = None, connectivity: int | str = 76,
                 weights: str | None = None, tract_lengths: str | None = None,
                 normalize_weights: bool = False, coupling: str | None = None,
                 coupling_a: float = 0.00390625, coupling_params: Mapping[str, Any] | None = None,
                 speed: float = 3.0, nsig: float | Sequence[float] = 0.001,
                 integrator: str = "HeunStochastic", dt: float = 0.1,
                 simulation_length: float = 2000.0, transient: float = 500.0,
                 monitor: str = "TemporalAverage", period: float = 1.0, bold_period: float = 2000.0,
                 fc_variable: str | None = None, target: str = "sc", distance: str | None = None,
                 noise_seed: int | None = None, device: str = "cpu", dtype: str = "float64"):
        self.parameters = parameters
        self.engine = engine
        self.model = model
        self.model_params = model_params
        self.state_range = state_range
        self.connectivity = connectivity
        self.weights = weights
        self.tract_lengths = tract_lengths
        self.normalize_weights = normalize_weights
        self.coupling = coupling
        self.coupling_a = coupling_a
        self.coupling_params = coupling_params
        self.speed = speed
        self.nsig = nsig
        self.integrator = integrator
        self.dt = dt
        self.simulation_length = simulation_length
        self.transient = transient
        self.monitor = monitor
        self.period = period
        self.bold_period = bold_period
        self.fc_variable = fc_variable
        self.target = target
        self.distance = distance
        self.noise_seed = noise_seed
        self.device = device
        self.dtype = dtype

    # -- declaration ----------------------------------------------------------------------
    def space(self) -> Space:
        space = Space.from_config(self._parameter_table())
        known = set(self._model_param_names()) | set(NETWORK_PARAMS)
        bad = [n for n in space.names if n not in known and not n.startswith("coupling_")]
        if bad:
            raise ConfigError(f"tvb-fc: unknown parameter(s) {bad} for model {self.model} "
                              f"(model parameters, or {', '.join(NETWORK_PARAMS)}, coupling_<name>)")
        return space

    def _parameter_table(self) -> dict[str, Mapping[str, Any]]:
        """``parameters`` with the model's domains filling missing bounds (the domains
        themselves when ``parameters`` is not given, batched engine)."""
        domains = self._spec().domains() if self.engine == "batched" else {}
        if self.parameters is None:
            return {name: {"low": lo, "high": hi} for name, (lo, hi) in domains.items()}
        table: dict[str, Mapping[str, Any]] = {}
        for name, entry in self.parameters.items():
            entry = dict(entry)
            if name in domains and "low" not in entry and "high" not in entry and "choices" not in entry:
                entry["low"], entry["high"] = domains[name]
            table[name] = entry
        return table

    def _spec(self):
        """The batched engine's model (with the configured coupling function)."""
        from .batched import as_spec

        return as_spec(self.model, self.coupling)

    def objectives(self) -> Objectives:
        if self.distance is None:
            return Objectives(("fc_corr",), (MAX,))
        return Objectives(("fc_corr", f"fc_{self.distance}"), (MAX, MIN))

    def targets(self) -> np.ndarray:
        self._ensure_setup()
        return upper(self._target)

    # -- setup ----------------------------------------------------------------------------
    def setup(self) -> None:
        self._check()
        self._conn: Connectome = load_connectome(self.connectivity, self.weights, self.tract_lengths,
                                                 bool(self.normalize_weights))
        n = self._conn.n_regions
        self._target = self._conn.weights.copy() if self.target == "sc" else load_target(str(self.target), n)
        self._target_upper = upper(self._target)
        self._state_range = self._checked_state_range()
        if self.engine == "batched":
            from .batched import resolve_device

            self._device = resolve_device(self.device)

    def _ensure_setup(self) -> None:
        if not hasattr(self, "_conn"):
            self.setup()

    def _check(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"tvb-fc: unknown engine {self.engine!r} (use {', '.join(ENGINES)})")
        if self.monitor not in ("TemporalAverage", "Bold"):
            raise ConfigError(f"tvb-fc: monitor {self.monitor!r} not supported (TemporalAverage or Bold)")
        if self.distance not in (None, "frobenius", "ks"):
            raise ConfigError(f"tvb-fc: unknown distance {self.distance!r} (frobenius, ks or none)")
        if self.noise_seed is not None and (isinstance(self.noise_seed, bool) or not isinstance(self.noise_seed, int)
                                            or not 0 <= self.noise_seed < 2**63):
            raise ConfigError(f"tvb-fc: noise_seed must be an integer in [0, 2**63), got {self.noise_seed!r}")
        if self.transient >= self.simulation_length:
            raise ConfigError("tvb-fc: the transient is as long as the simulation")
        if self.engine == "batched":
            self._spec()
            if self.integrator not in BATCHED_INTEGRATORS:
                raise ConfigError(f"batched engine: integrator {self.integrator!r} not supported "
                                  f"({', '.join(BATCHED_INTEGRATORS)}; engine = 'tvb' has all)")
        elif self.model.startswith("rateml:") or self.model.endswith(".xml"):
            raise ConfigError(f"tvb engine: {self.model!r} is a RateML model: it runs on engine = 'batched' "
                              "(engine = 'tvb' runs tvb-library's own model classes)")
        self.space()

    def _checked_state_range(self) -> dict[str, tuple[float, float]]:
        """``state_range`` checked against the model's state variables."""
        if "state_variable_range" in (self.model_params or {}):
            raise ConfigError("tvb-fc: set the initial-condition range with state_range, not model_params")
        ranges = self.state_range or {}
        if not isinstance(ranges, Mapping):
            raise ConfigError(f"tvb-fc: state_range must be a table {{state variable = [low, high]}}, got {ranges!r}")
        names = self._state_variables()
        checked = {}
        for name, pair in ranges.items():
            if name not in names:
                raise ConfigError(f"tvb-fc: state_range: model {self.model} has no state variable {name!r} "
                                  f"(has {', '.join(names)})")
            try:
                low, high = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise ConfigError(f"tvb-fc: state_range.{name} must be a pair [low, high], got {pair!r}") from None
            if not low <= high:
                raise ConfigError(f"tvb-fc: state_range.{name} = [{low}, {high}]: low must not exceed high")
            checked[name] = (low, high)
        return checked

    def _tvb_model_class(self) -> type:
        from tvb.simulator import models

        cls = getattr(models, self.model, None)
        if not isinstance(cls, type):
            raise ConfigError(f"tvb: unknown model {self.model!r}")
        return cls

    def _state_variables(self) -> tuple[str, ...]:
        if self.engine == "batched":
            return self._spec().state_variables
        return tuple(self._tvb_model_class().state_variables)

    def _model_param_names(self) -> list[str]:
        if self.engine == "batched":
            return list(self._spec().param_names)
        return [n for n in self._tvb_model_class().declarative_attrs
                if n not in ("state_variable_range", "variables_of_interest", "state_variable_boundaries",
                             "gid", "title")]

    # -- evaluation -----------------------------------------------------------------------
    def _split(self, params: Mapping[str, Any]) -> tuple[dict, dict, float, Any]:
        """(model params, coupling params, speed, nsig) of one parameter set."""
        model = dict(self.model_params or {})
        coupling = {"a": self.coupling_a, **(self.coupling_params or {})}
        speed, nsig = self.speed, self.nsig
        for name, value in params.items():
            if name == "coupling":
                coupling["a"] = value
            elif name.startswith("coupling_"):
                coupling[name[len("coupling_"):]] = value
            elif name == "speed":
                speed = value
            elif name == "nsig":
                nsig = value
            else:
                model[name] = value
        return model, coupling, float(speed), nsig

    def _score(self, x: np.ndarray) -> Evaluation:
        """Fitness of one signal ``x[time, region]``; a diverged simulation is a failure."""
        if not np.all(np.isfinite(x)):
            return Evaluation.failed("simulation diverged (non-finite state)")
        sim = upper(fc_matrix(x))
        fitness = [pearson(sim, self._target_upper)]
        if self.distance is not None:
            fitness.append(fc_distance(sim, self._target_upper, self.distance))
        return Evaluation(fitness=tuple(fitness), observation=sim)

    def _sampling(self) -> tuple[float, int]:
        """(sampling period in ms, samples to discard) of the recorded signal."""
        if self.monitor == "Bold":
            return BOLD_INTERIM_PERIOD, 0
        return float(self.period), int(round(self.transient / self.period))

    def _signal(self, x: np.ndarray) -> np.ndarray:
        """Recorded signal [time, region, ...] → FC input (BOLD conversion, transient cut)."""
        if self.monitor != "Bold":
            return x
        return bold_signal(x, self.bold_period)[self._bold_skip():]

    def _bold_skip(self) -> int:
        """BOLD samples (one per ``bold_period``, the k-th ending at (k+1) periods) that lie
        within the transient."""
        return int(self.transient // self.bold_period)

    def evaluate(self, params: Mapping[str, Any], seed: int) -> Evaluation:
        self._ensure_setup()
        if self.engine == "batched":
            return self.evaluate_batch([params], [seed])[0]
        return self._evaluate_tvb(params, seed)

    def evaluate_batch(self, params: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> list[Evaluation]:
        self._ensure_setup()
        if self.noise_seed is not None:
            seeds = [int(self.noise_seed)] * len(params)
        if self.engine == "tvb":
            return [self._evaluate_tvb(p, s) for p, s in zip(params, seeds)]
        from .batched import simulate

        spec = self._spec()
        defaults = spec.defaults()
        split = [self._split(p) for p in params]
        groups: dict[float, list[int]] = defaultdict(list)
        for k, (_, _, speed, _) in enumerate(split):
            groups[speed].append(k)
        period, skip = self._sampling()
        results: list[Evaluation] = [Evaluation.failed("not run")] * len(params)
        voi = self.fc_variable or spec.state_variables[0]
        stochastic = self.integrator == "HeunStochastic"
        for speed, idx in groups.items():
            model_keys = sorted({k for i in idx for k in split[i][0]})
            extra = sorted({k for i in idx for k in split[i][1]} - {"a", "b"})
            if extra:
                raise ConfigError(f"batched engine: coupling parameter(s) {extra} not supported (a, b)")
            run = simulate(
                spec, self._conn, int(round(self.simulation_length / self.dt)), [seeds[i] for i in idx],
                params={k: np.array([split[i][0].get(k, defaults[k]) for i in idx], float)
                        for k in model_keys},
                coupling_a=np.array([split[i][1]["a"] for i in idx], float),
                coupling_b=np.array([split[i][1].get("b", 0.0) for i in idx], float),
                speed=speed, dt=self.dt, state_range=self._state_range,
                nsig=self._nsig_array([split[i][3] for i in idx], spec.nsv) if stochastic else 0.0,
                voi=(voi,), istep=max(1, int(round(period / self.dt))), skip_samples=skip,
                dtype=self.dtype, device=self._device)
            signal = self._signal(run.samples[:, 0])
            for col, i in enumerate(idx):
                results[i] = self._score(signal[..., col])
        return results

    @staticmethod
    def _nsig_array(values: list[Any], nsv: int) -> np.ndarray:
        """nsig per state variable and instance (nsv, B) from scalars or per-variable lists."""
        return np.stack([np.broadcast_to(np.asarray(v, float), (nsv,)) for v in values], axis=1)

    def _evaluate_tvb(self, params: Mapping[str, Any], seed: int) -> Evaluation:
        from .tvb_engine import simulate_tvb

        if self.noise_seed is not None:
            seed = int(self.noise_seed)
        model, coupling, speed, nsig = self._split(params)
        bold = self.monitor == "Bold"
        times, data = simulate_tvb(
            self._conn, self.model, int(round(self.simulation_length / self.dt)), seed,
            params=model, coupling=self.coupling or "Linear", coupling_params=coupling, speed=speed,
            integrator=self.integrator, dt=self.dt, nsig=nsig, monitor=self.monitor,
            state_range=self._state_range,
            period=self.bold_period if bold else self.period,
            voi=None if self.fc_variable is None else (self.fc_variable,))
        skip = self._bold_skip() if bold else self._sampling()[1]
        return self._score(data[skip:, 0])
