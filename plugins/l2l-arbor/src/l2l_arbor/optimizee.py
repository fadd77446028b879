"""``arbor-cell``: fit an Arbor single-cell model to the electrophysiological features of target
voltage traces under current-clamp steps.

Each objective is the distance of one eFEL feature (per protocol and recording site) from the
target's, in units of its standard deviation; optionally one more objective is the trace RMSE
(mV). :meth:`ArborCell.evaluate_batch` puts one cell per parameter set and protocol into ONE
Arbor recipe and runs it as one simulation on Arbor's threads (and GPU where built with one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from l2l import ConfigError, Evaluation, Float, Objectives, Optimizee, Space
from l2l.space import parameter_from_spec

from . import features as feat
from .morphology import BALL_AND_STICK
from .settings import Setting, parse_setting

SOMA_CENTER = '(on-components 0.5 (region "soma"))'
#: |V| above this (mV) counts as a diverged simulation
RUNAWAY_MV = 1000.0


@dataclass
class _Prepared:
    """Per-process state: the Arbor cell model, contexts, protocols and the target."""

    model: Any
    contexts: Any
    steps: list[tuple[str, Any]]
    sites: dict[str, str]
    features: dict[str, list[str]]  # protocol -> feature names
    free: dict[str, list[Setting]]
    offset: float
    target_time: np.ndarray | None = None
    target_v: np.ndarray | None = None  # (n_steps, n_sites, n_samples)
    target_features: dict[str, float] = field(default_factory=dict)  # objective -> value
    stds: dict[str, float] = field(default_factory=dict)
    pid: int = field(default_factory=os.getpid)


#: Arbor contexts inherited through fork() from a parent process: never used (their threads do
#: not exist here) and never destroyed (destroying a context would join those threads)
_INHERITED: list[Any] = []


class ArborCell(Optimizee):
    """An Arbor cable cell whose settings are fitted to target voltage traces.

    Cell: ``morphology`` (``"ball-and-stick"`` or a .swc/.asc/.nml path; ``geometry`` sizes the
    ball-and-stick: ``soma_radius``, ``dend_length`` (0: soma only), ``dend_radius`` in µm),
    ``allen_fit`` (an Allen ``fit.json``: its genome, conditions and junction potential),
    ``catalogues`` (``default``/``allen``/``bbp``/``stochastic`` or a .so path, or tables
    ``{catalogue, prefix}``), ``mechanisms`` (tables ``{region, mechanism, PARAM = value}``;
    default for the ball-and-stick: ``hh`` on the soma, ``pas`` on the dendrite), ``settings``
    (fixed values, keys in the grammar of :mod:`l2l_arbor.settings`), ``ions`` (per ion
    ``int_con``, ``ext_con``, ``rev_pot``, ``method``), ``cv_policy`` (max CV length in µm or an
    Arbor CV policy expression).

    Free parameters: ``parameters`` maps a name to ``{low, high, sets}``; ``sets`` is a setting
    or a list of them (``"NaTs.gbar@soma"``, ``"cm"``, ``"e_k@axon"``, ...).

    Protocols: ``protocols`` (tables ``{amplitude nA, start ms, duration ms[, name, location,
    features]}``), ``tfinal``, ``dt``, ``sample_dt`` (ms; default 0.1 or dt), ``stimulus_location`` (locset),
    ``recordings`` (name -> locset; default the soma centre).

    Fitness: ``features`` (eFEL names, or per protocol), ``feature_std`` (absolute std per
    feature), else ``relative_std`` × |target| but at least ``min_std``; ``missing_score``
    (score of a feature the candidate lacks; None: the evaluation fails with the reason);
    ``rmse`` (add the trace RMSE in mV as an objective); ``efel_settings`` (e.g. Threshold);
    ``voltage_offset`` (mV added to simulated traces; None: minus the Allen fit's junction
    potential, as the Allen SDK reports its model's voltage, else 0).

    Target (one of): ``target_traces`` (protocol or "protocol.recording" -> CSV/NPY file),
    ``target_features`` ("protocol[.recording].feature" -> value or ``{mean, std}``, e.g.
    experimental means), else the model simulated at ``target_params`` (missing names: their
    base values).

    Execution: ``threads`` of Arbor per simulation; ``gpu`` to run on Arbor's GPU backend.
    """

    preload = ("arbor", "efel")

    def __init__(self, morphology: str = BALL_AND_STICK, geometry: dict[str, float] | None = None,
                 swc_flavour: str = "neuron", allen_fit: str | None = None,
                 catalogues: Sequence[Any] = (), mechanisms: Sequence[dict[str, Any]] | None = None,
                 settings: dict[str, float] | None = None, ions: dict[str, dict[str, Any]] | None = None,
                 cv_policy: float | str = 20.0, parameters: dict[str, dict[str, Any]] | None = None,
                 protocols: Sequence[dict[str, Any]] | None = None, tfinal: float = 100.0,
                 dt: float = 0.025, sample_dt: float | None = None,
                 stimulus_location: str = SOMA_CENTER, recordings: dict[str, str] | None = None,
                 features: Sequence[str] = feat.DEFAULT_FEATURES,
                 feature_std: dict[str, float] | None = None, relative_std: float = 0.1,
                 min_std: float = 0.05, missing_score: float | None = None, rmse: bool = False,
                 efel_settings: dict[str, Any] | None = None, voltage_offset: float | None = None,
                 target_params: dict[str, float] | None = None,
                 target_traces: dict[str, str] | None = None,
                 target_features: dict[str, Any] | None = None, threads: int = 1, gpu: bool = False):
        self.morphology = morphology
        self.geometry = geometry
        self.swc_flavour = swc_flavour
        self.allen_fit = allen_fit
        self.catalogues = catalogues
        self.mechanisms = mechanisms
        self.settings = settings
        self.ions = ions
        self.cv_policy = cv_policy
        self.parameters = parameters
        self.protocols = protocols
        self.tfinal = tfinal
        self.dt = dt
        self.sample_dt = sample_dt
        self.stimulus_location = stimulus_location
        self.recordings = recordings
        self.features = features
        self.feature_std = feature_std
        self.relative_std = relative_std
        self.min_std = min_std
        self.missing_score = missing_score
        self.rmse = rmse
        self.efel_settings = efel_settings
        self.voltage_offset = voltage_offset
        self.target_params = target_params
        self.target_traces = target_traces
        self.target_features = target_features
        self.threads = threads
        self.gpu = gpu

    # -- configuration -----------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_prep", None)  # Arbor objects stay in their process
        return state

    def _default_model(self) -> bool:
        return self.morphology == BALL_AND_STICK and self.allen_fit is None and self.mechanisms is None

    def _parameter_table(self) -> dict[str, dict[str, Any]]:
        if self.parameters is not None:
            if not self.parameters:
                raise ConfigError("arbor-cell: 'parameters' declares no free parameter")
            return self.parameters
        if not self._default_model():
            raise ConfigError("arbor-cell: declare the free 'parameters' ({name = {low, high, sets}})")
        return {"gnabar": {"low": 0.05, "high": 0.25, "sets": "hh.gnabar@soma"},
                "gkbar": {"low": 0.01, "high": 0.08, "sets": "hh.gkbar@soma"}}

    def _free(self) -> dict[str, list[Setting]]:
        out = {}
        for name, spec in self._parameter_table().items():
            if not isinstance(spec, Mapping) or "sets" not in spec:
                raise ConfigError(f"parameter {name!r}: needs 'sets' (e.g. sets = 'hh.gnabar@soma')")
            sets = spec["sets"]
            sets = [sets] if isinstance(sets, str) else list(sets)
            if not sets:
                raise ConfigError(f"parameter {name!r}: 'sets' is empty")
            out[name] = [parse_setting(s) for s in sets]
        return out

    def space(self) -> Space:
        params = []
        for name, spec in self._parameter_table().items():
            rest = {k: v for k, v in dict(spec).items() if k != "sets"}
            p = parameter_from_spec(name, rest)
            if not isinstance(p, Float) or p.kind != "float" or p.shape:
                raise ConfigError(f"parameter {name!r}: only scalar float parameters are supported")
            params.append(p)
        self._free()
        return Space(params)

    def _protocol_tables(self) -> list[dict[str, Any]]:
        if self.protocols is None:
            return [{"name": "step1", "amplitude": 0.5, "start": 10.0, "duration": 80.0}]
        if not self.protocols:
            raise ConfigError("arbor-cell: 'protocols' is empty")
        return [dict(p) for p in self.protocols]

    def _sites(self) -> dict[str, str]:
        sites = {"soma": SOMA_CENTER} if self.recordings is None else dict(self.recordings)
        if not sites:
            raise ConfigError("arbor-cell: 'recordings' is empty")
        return sites

    def _features(self) -> dict[str, list[str]]:
        out = {}
        for i, proto in enumerate(self._protocol_tables()):
            names = list(proto.get("features", self.features))
            if not names and not self.rmse:
                raise ConfigError(f"protocol {proto.get('name', i + 1)!r}: no features (and rmse is off)")
            feat.check_features(names)
            out[str(proto.get("name", f"step{i + 1}"))] = names
        return out

    def objectives(self) -> Objectives:
        names = [f"{p}.{site}.{f}" for p, fs in self._features().items()
                 for site in self._sites() for f in fs]
        if self.rmse:
            names.append("rmse")
        return Objectives(tuple(names), ("min",) * len(names))

    # -- per-process preparation -------------------------------------------------------------
    def setup(self) -> None:
        self._prepared()

    def _prepared(self) -> _Prepared:
        from .simulate import Contexts

        prep = getattr(self, "_prep", None)
        if prep is not None:
            if prep.pid != os.getpid():
                # a forked child: the cell model and the target are plain data and stay valid;
                # only the execution contexts (threads, GPU) must be made here
                _INHERITED.append(prep.contexts)
                prep.contexts, prep.pid = Contexts(self.threads, self.gpu), os.getpid()
            return prep
        from .cell import CellModel
        from .simulate import steps_of

        for key in ("tfinal", "dt"):
            if float(getattr(self, key)) <= 0:
                raise ConfigError(f"arbor-cell: {key} must be positive, got {getattr(self, key)}")
        if self.sample_dt is not None and float(self.sample_dt) < float(self.dt):
            raise ConfigError(f"arbor-cell: sample_dt ({self.sample_dt}) is below dt ({self.dt})")
        mechanisms = self.mechanisms
        if mechanisms is None:  # the default cell: HH soma, passive dendrite
            mechanisms = []
            if self.morphology == BALL_AND_STICK and self.allen_fit is None:
                mechanisms.append({"region": "soma", "mechanism": "hh"})
                if float((self.geometry or {}).get("dend_length", 1.0)) > 0:
                    mechanisms.append({"region": "dend", "mechanism": "pas"})
        model = CellModel(morphology=self.morphology, swc_flavour=self.swc_flavour,
                          geometry=self.geometry, catalogues=list(self.catalogues),
                          mechanisms=mechanisms, settings=dict(self.settings or {}),
                          ions=dict(self.ions or {}), allen_fit=self.allen_fit,
                          cv_policy=self.cv_policy)
        free = self._free()
        for settings in free.values():
            for s in settings:
                model.check(s)
        offset = -model.junction_potential if self.voltage_offset is None else float(self.voltage_offset)
        steps, sites = steps_of(self._protocol_tables(), self.stimulus_location), self._sites()
        for name, step in steps:
            model.check_locset(step.location, f"protocol {name!r}: stimulus location")
        for name, site in sites.items():
            model.check_locset(site, f"recording {name!r}:")
        prep = _Prepared(model=model, contexts=Contexts(self.threads, self.gpu), steps=steps,
                         sites=sites, features=self._features(), free=free, offset=offset)
        # configure eFEL now (a reset costs ~10 ms): processes forked from here inherit it
        feat.apply_settings(self.efel_settings or {})
        self._load_target(prep)
        self._prep = prep
        return prep

    def base_params(self) -> dict[str, float]:
        """Each free parameter's value in the base model (its first setting's value)."""
        return self._base_params(self._prepared())

    def _base_params(self, prep: _Prepared) -> dict[str, float]:
        space = self.space()
        return {name: float(np.clip(prep.model.default(sets[0]), space[name].low, space[name].high))
                for name, sets in prep.free.items()}

    def _load_target(self, prep: _Prepared) -> None:
        given = [k for k in ("target_traces", "target_params", "target_features")
                 if getattr(self, k) is not None]
        if len(given) > 1:
            raise ConfigError(f"arbor-cell: give one of {', '.join(given)}, not several")
        if self.target_features is not None:
            self._given_features(prep)
            return
        if self.target_traces is not None:
            prep.target_time, prep.target_v = self._traces_from_files(prep)
        else:
            params = self._base_params(prep)
            unknown = sorted(set(self.target_params or {}) - set(params))
            if unknown:
                raise ConfigError(f"target_params: unknown parameter(s) {unknown} (known: {sorted(params)})")
            params.update({k: float(v) for k, v in (self.target_params or {}).items()})
            time, v = self._simulate(prep, [params])
            bad = self._diverged(prep, v[0])
            if bad:
                raise ConfigError(f"the target simulation failed: {bad}")
            prep.target_time, prep.target_v = time, v[0]
        values = self._feature_tables(prep, prep.target_time, [prep.target_v])[0]  # type: ignore[arg-type]
        for objective, value in values.items():
            if value is None:
                raise ConfigError(f"target: feature {objective!r} is undefined in the target trace "
                                  f"(no or too few spikes?); remove it from that protocol's features")
            prep.target_features[objective] = value
            prep.stds[objective] = self._std(objective.rsplit(".", 1)[1], value)

    def _std(self, feature: str, value: float) -> float:
        """The std that scales ``feature``'s error: given, relative to ``value``, or the minimum."""
        return feat.std_of(feature, value, self.feature_std or {}, self.relative_std, self.min_std)

    def _given_features(self, prep: _Prepared) -> None:
        """Target feature values from the config: ``{"PROTOCOL[.RECORDING].FEATURE": mean or
        {mean, std}}``."""
        if self.rmse:
            raise ConfigError("arbor-cell: rmse needs target traces (target_traces or target_params)")
        given = dict(self.target_features or {})
        single = len(prep.sites) == 1
        for proto, names in prep.features.items():
            for site in prep.sites:
                for name in names:
                    key = f"{proto}.{site}.{name}"
                    spec = given.pop(key, None)
                    if spec is None and single:
                        spec = given.pop(f"{proto}.{name}", None)
                    if spec is None:
                        raise ConfigError(f"target_features: no value for {key!r}")
                    if isinstance(spec, Mapping):
                        if set(spec) - {"mean", "std"} or "mean" not in spec:
                            raise ConfigError(f"target_features[{key!r}]: use a number or {{mean, std}}")
                        mean = float(spec["mean"])
                        std = float(spec.get("std", self._std(name, mean)))
                        if std <= 0:
                            raise ConfigError(f"target_features[{key!r}]: std must be positive")
                    else:
                        mean = float(spec)
                        std = self._std(name, mean)
                    prep.target_features[key], prep.stds[key] = mean, std
        if given:
            raise ConfigError(f"target_features: unknown key(s) {sorted(given)} "
                              f"(use PROTOCOL.FEATURE or PROTOCOL.RECORDING.FEATURE)")

    def _traces_from_files(self, prep: _Prepared) -> tuple[np.ndarray, np.ndarray]:
        from .traces import load_trace, resample

        sample_dt = self._sample_dt()
        grid = np.arange(0.0, float(self.tfinal) - 1e-9, sample_dt)
        files = dict(self.target_traces or {})
        v = np.empty((len(prep.steps), len(prep.sites), len(grid)))
        single = len(prep.sites) == 1
        for i, (proto, _) in enumerate(prep.steps):
            for j, site in enumerate(prep.sites):
                key = f"{proto}.{site}"
                path = files.pop(key, None) or (files.pop(proto, None) if single else None)
                if path is None:
                    raise ConfigError(f"target_traces: no file for {key!r}")
                t, volt = load_trace(path)
                v[i, j] = resample(t, volt, grid, f"target trace {path!r}")
        if files:
            raise ConfigError(f"target_traces: unknown key(s) {sorted(files)} "
                              f"(use PROTOCOL or PROTOCOL.RECORDING)")
        return grid, v

    # -- simulation ----------------------------------------------------------------------------
    def _values(self, prep: _Prepared, params: Mapping[str, Any]) -> dict[Setting, float]:
        return {s: float(params[name]) for name, settings in prep.free.items() for s in settings}

    def _sample_dt(self) -> float:
        """Sampling interval: ``sample_dt``, else eFEL's interpolation step 0.1 ms (finer
        samples do not change eFEL's features), never below ``dt``."""
        return float(self.sample_dt) if self.sample_dt is not None else max(float(self.dt), 0.1)

    def _cells(self, prep: _Prepared, params: Mapping[str, Any]) -> list[Any]:
        """One Arbor cell per protocol for a parameter set."""
        values = self._values(prep, params)
        return [prep.model.cell(values, step) for _, step in prep.steps]

    def _simulate(self, prep: _Prepared, params_list: Sequence[Mapping[str, Any]],
                  cells: Sequence[Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Traces of every parameter set, shape ``(n_sets, n_steps, n_sites, n_samples)``,
        with the voltage offset applied; all sets in one Arbor simulation."""
        from .simulate import simulate

        if cells is None:
            cells = [c for p in params_list for c in self._cells(prep, p)]
        time, v = simulate(cells, list(prep.sites.values()), prep.model.props, prep.contexts,
                           tfinal=float(self.tfinal), dt=float(self.dt),
                           sample_dt=self._sample_dt())
        v = v.reshape(len(params_list), len(prep.steps), len(prep.sites), -1) + prep.offset
        if prep.target_time is not None and len(prep.target_time) != v.shape[-1]:
            n = min(len(prep.target_time), v.shape[-1])
            time, v = time[:n], v[..., :n]
        return time, v

    def traces(self, params_list: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """``(time, v)`` of parameter sets simulated together, ``v`` of shape
        ``(n_sets, n_protocols, n_recordings, n_samples)`` (mV, offset applied)."""
        return self._simulate(self._prepared(), params_list)

    def target(self) -> tuple[np.ndarray, np.ndarray]:
        """``(time, v)`` of the target, ``v`` of shape ``(n_protocols, n_recordings, n_samples)``."""
        prep = self._prepared()
        return prep.target_time, prep.target_v  # type: ignore[return-value]

    @staticmethod
    def _diverged(prep: _Prepared, v: np.ndarray) -> str | None:
        """Why a parameter set's traces are unusable, or None."""
        for i, (proto, _) in enumerate(prep.steps):
            for j, site in enumerate(prep.sites):
                trace = v[i, j]
                if not np.all(np.isfinite(trace)):
                    return f"simulation diverged: non-finite voltage in protocol {proto!r} at {site!r}"
                if np.max(np.abs(trace)) > RUNAWAY_MV:
                    return f"simulation diverged: |V| > {RUNAWAY_MV:g} mV in protocol {proto!r} at {site!r}"
        return None

    def _feature_tables(self, prep: _Prepared, time: np.ndarray,
                        v_sets: Sequence[np.ndarray]) -> list[dict[str, float | None]]:
        """Objective name -> feature value, for each parameter set's traces ``(steps, sites, t)``
        (one eFEL call for all)."""
        names = sorted({f for fs in prep.features.values() for f in fs})
        keys = [(proto, site) for proto, _ in prep.steps for site in prep.sites]
        stims = [(step.start, step.start + step.duration) for _, step in prep.steps for _ in prep.sites]
        traces = [v[i, j] for v in v_sets for i in range(len(prep.steps)) for j in range(len(prep.sites))]
        rows = feat.compute(time, traces, stims * len(v_sets), names, self.efel_settings or {}) \
            if names else [{}] * len(traces)
        out = []
        for k in range(len(v_sets)):
            block = rows[k * len(keys):(k + 1) * len(keys)]
            out.append({f"{proto}.{site}.{f}": row.get(f) for (proto, site), row in zip(keys, block)
                        for f in prep.features[proto]})
        return out

    def _score(self, prep: _Prepared, time: np.ndarray, v_sets: np.ndarray) -> list[Evaluation]:
        """Evaluations of parameter sets from their traces ``(n_sets, steps, sites, t)``."""
        out: list[Evaluation | None] = [None] * len(v_sets)
        usable = []
        for k, v in enumerate(v_sets):
            bad = self._diverged(prep, v)
            if bad:
                out[k] = Evaluation.failed(bad)
            else:
                usable.append(k)
        tables = self._feature_tables(prep, time, [v_sets[k] for k in usable]) if usable else []
        for k, values in zip(usable, tables):
            out[k] = self._distances(prep, v_sets[k], values)
        return out  # type: ignore[return-value]

    def _distances(self, prep: _Prepared, v: np.ndarray, values: dict[str, float | None]) -> Evaluation:
        fitness, missing = [], []
        for objective, value in values.items():
            if value is None:
                missing.append(objective)
                fitness.append(np.nan if self.missing_score is None else float(self.missing_score))
            else:
                fitness.append(abs(value - prep.target_features[objective]) / prep.stds[objective])
        info: dict[str, Any] = {"features": values}
        if missing and self.missing_score is None:
            counts = {k: x for k, x in values.items() if k.endswith(".Spikecount")}
            return Evaluation.failed(f"feature(s) {missing} undefined in the simulated trace "
                                     f"(no or too few spikes){'; ' + str(counts) if counts else ''}",
                                     info=info)
        if self.rmse:
            fitness.append(float(np.sqrt(np.mean((v - prep.target_v) ** 2))))
        observation = np.array([np.nan if x is None else x for x in values.values()])
        return Evaluation(fitness=tuple(fitness), observation=observation, info=info)

    # -- the optimizee protocol --------------------------------------------------------------
    def targets(self) -> np.ndarray:
        """Target feature values, in objective order (for the ensemble Kalman filter)."""
        return np.array(list(self._prepared().target_features.values()))

    def evaluate(self, params: Mapping[str, Any], seed: int) -> Evaluation:
        prep = self._prepared()
        time, v = self._simulate(prep, [params])
        return self._score(prep, time, v)[0]

    def evaluate_batch(self, params: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> list[Evaluation]:
        prep = self._prepared()
        results: list[Evaluation | None] = [None] * len(params)
        good, cells = [], []
        for i, p in enumerate(params):
            try:  # a parameter set Arbor refuses fails alone
                cells.extend(self._cells(prep, p))
                good.append(i)
            except Exception as exc:  # noqa: BLE001
                results[i] = Evaluation.failed(f"cell construction failed: {type(exc).__name__}: {exc}")
        if good:
            time, v = self._simulate(prep, [params[i] for i in good], cells)
            for i, ev in zip(good, self._score(prep, time, v)):
                results[i] = ev
        return results  # type: ignore[return-value]
