"""``nest-brunel``: fit the regime of a Brunel (2000) balanced random network.

``n_excitatory`` + ``n_excitatory/4`` ``iaf_psc_delta`` neurons (tau_m 20 ms, threshold 20 mV,
reset 10 mV, refractory 2 ms), each with ``epsilon`` of the excitatory and inhibitory
populations as inputs (fixed in-degree), excitatory weight ``j`` (mV), inhibitory ``-g·j``,
one ``delay``, and independent Poisson drive at ``eta`` times the threshold rate
``theta / (j · C_E · tau_m)``. Free parameters: those of g, eta, j, delay named in ``free``
(bounds in :data:`BOUNDS`, overridable with ``bounds``); the others keep their keyword values.

Measured after ``warmup_ms`` on ``n_record`` excitatory neurons: the mean rate (Hz), the mean
coefficient of variation of inter-spike intervals (neurons with at least two intervals), and the
synchrony χ = sqrt(var(population count) / mean(var(single counts))) over ``bin_ms`` bins
(Golomb's measure on binned spikes: ≈0 asynchronous, 1 fully synchronous). Objectives: the
absolute distance of each to ``target_rate``, ``target_cv`` and ``target_synchrony``, minimised.
The observation is ``(rate, cv, synchrony)`` and :meth:`targets` the three targets, so ``enkf``
can fit it too. The evaluation seed seeds NEST's RNG, which draws connectivity, initial
membrane potentials and the Poisson drive.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from l2l import ConfigError, Evaluation, Float, Objectives, Optimizee, Space
from l2l.space import Params

from .kernel import import_nest, reset_kernel

#: Default bounds of the free parameters.
BOUNDS: dict[str, tuple[float, float]] = {"g": (2.0, 8.0), "eta": (0.5, 4.0),
                                          "j": (0.1, 1.0), "delay": (0.5, 3.0)}
THETA = 20.0  # mV
TAU_M = 20.0  # ms
NEURON = {"C_m": 1.0, "tau_m": TAU_M, "t_ref": 2.0, "E_L": 0.0, "V_reset": 10.0,
          "V_th": THETA, "V_m": 0.0}


class BrunelNetwork(Optimizee):
    """Brunel balanced network; distance of rate, CV and synchrony to targets (``nest-brunel``)."""

    def __init__(self, n_excitatory: int = 400, epsilon: float = 0.2, g: float = 5.0,
                 eta: float = 2.0, j: float = 0.5, delay: float = 1.5,
                 free: Sequence[str] = ("g", "eta"),
                 bounds: Mapping[str, Sequence[float]] | None = None,
                 target_rate: float = 20.0, target_cv: float = 1.0,
                 target_synchrony: float = 0.2, sim_ms: float = 1000.0, warmup_ms: float = 200.0,
                 n_record: int = 100, bin_ms: float = 5.0, local_num_threads: int = 1,
                 resolution: float = 0.1):
        self.n_excitatory = n_excitatory
        self.epsilon = epsilon
        self.g = g
        self.eta = eta
        self.j = j
        self.delay = delay
        self.free = free
        self.bounds = bounds
        self.target_rate = target_rate
        self.target_cv = target_cv
        self.target_synchrony = target_synchrony
        self.sim_ms = sim_ms
        self.warmup_ms = warmup_ms
        self.n_record = n_record
        self.bin_ms = bin_ms
        self.local_num_threads = local_num_threads
        self.resolution = resolution

    def _check(self) -> None:
        unknown = [f for f in self.free if f not in BOUNDS]
        if unknown or not self.free:
            raise ConfigError(f"nest-brunel: free must name some of {list(BOUNDS)}, got {list(self.free)}")
        bad = [k for k in (self.bounds or {}) if k not in BOUNDS]
        if bad:
            raise ConfigError(f"nest-brunel: bounds for unknown parameters {bad}")
        if int(self.n_excitatory) < 4 or not 0 < float(self.epsilon) <= 1:
            raise ConfigError("nest-brunel: n_excitatory must be >= 4 and epsilon in (0, 1]")
        if not 1 <= int(self.n_record) <= int(self.n_excitatory):
            raise ConfigError(f"nest-brunel: n_record must be in 1..{self.n_excitatory}")
        if not 0 <= float(self.warmup_ms) < float(self.sim_ms):
            raise ConfigError("nest-brunel: warmup_ms must be in [0, sim_ms)")
        if not 0 < float(self.bin_ms) <= float(self.sim_ms) - float(self.warmup_ms):
            raise ConfigError("nest-brunel: bin_ms must be positive and fit in the recorded time")

    def space(self) -> Space:
        self._check()
        bounds = {**BOUNDS, **{k: tuple(v) for k, v in (self.bounds or {}).items()}}
        return Space([Float(name, *bounds[name]) for name in self.free])

    def objectives(self) -> Objectives:
        return Objectives(("rate_error", "cv_error", "synchrony_error"), ("min", "min", "min"))

    def targets(self) -> np.ndarray:
        return np.array([self.target_rate, self.target_cv, self.target_synchrony], dtype=float)

    def setup(self) -> None:
        self._check()
        import_nest()

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        values = {name: float(getattr(self, name)) for name in BOUNDS}
        values.update({k: float(v) for k, v in params.items()})
        stats = self.measure(seed, **values)
        measured = np.array([stats["rate"], stats["cv"], stats["synchrony"]])
        errors = np.abs(measured - self.targets())
        return Evaluation(fitness=tuple(errors.tolist()), observation=measured, info=stats)

    def measure(self, seed: int, g: float, eta: float, j: float, delay: float) -> dict[str, Any]:
        """Simulate the network once and return its rate (Hz), CV and synchrony."""
        self._check()
        nest = reset_kernel(seed, self.local_num_threads, self.resolution)
        n_e = int(self.n_excitatory)
        n_i = max(1, n_e // 4)
        c_e, c_i = max(1, round(float(self.epsilon) * n_e)), max(1, round(float(self.epsilon) * n_i))
        nu_threshold = THETA / (j * c_e * TAU_M)  # spikes per ms
        excitatory = nest.Create("iaf_psc_delta", n_e, params=NEURON)
        inhibitory = nest.Create("iaf_psc_delta", n_i, params=NEURON)
        neurons = excitatory + inhibitory
        neurons.V_m = nest.random.uniform(0.0, THETA)
        drive = nest.Create("poisson_generator", params={"rate": 1000.0 * eta * nu_threshold * c_e})
        recorder = nest.Create("spike_recorder", params={"start": float(self.warmup_ms)})
        nest.Connect(drive, neurons, syn_spec={"weight": j, "delay": delay})
        nest.Connect(excitatory, neurons, {"rule": "fixed_indegree", "indegree": c_e},
                     {"weight": j, "delay": delay})
        nest.Connect(inhibitory, neurons, {"rule": "fixed_indegree", "indegree": c_i},
                     {"weight": -g * j, "delay": delay})
        recorded = excitatory[:int(self.n_record)]
        nest.Connect(recorded, recorder)
        nest.Simulate(float(self.sim_ms))
        events = recorder.events
        return self._statistics(np.asarray(events["senders"]) - recorded[0].global_id,
                                np.asarray(events["times"], dtype=float))

    def _statistics(self, senders: np.ndarray, times: np.ndarray) -> dict[str, Any]:
        n = int(self.n_record)
        span = float(self.sim_ms) - float(self.warmup_ms)
        rate = 1000.0 * times.size / (n * span)
        cvs = []
        for i in range(n):
            isi = np.diff(np.sort(times[senders == i]))
            if isi.size >= 2 and isi.mean() > 0:
                cvs.append(isi.std() / isi.mean())
        edges = np.arange(float(self.warmup_ms), float(self.sim_ms) + 1e-9, float(self.bin_ms))
        counts, _, _ = np.histogram2d(times, senders, bins=(edges, np.arange(n + 1)))
        single = counts.var(axis=0).mean()
        synchrony = float(np.sqrt(counts.mean(axis=1).var() / single)) if single > 0 else 0.0
        return {"rate": rate, "cv": float(np.mean(cvs)) if cvs else 0.0,
                "synchrony": synchrony, "n_spikes": int(times.size),
                "cv_neurons": len(cvs)}
