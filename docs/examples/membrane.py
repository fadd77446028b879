"""A passive membrane fitted to a voltage recording: an l2l optimizee with every optional part."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from l2l import ConfigError, Evaluation, Float, Objectives, Optimizee, Space


def membrane_voltage(tau_m: np.ndarray, r_in: np.ndarray, current: float, t: np.ndarray) -> np.ndarray:
    """Voltage (mV above rest) of RC membranes after a current step at t = 0, shape
    ``(len(tau_m), len(t))``: tau_m in ms, r_in in MOhm, current in nA, t in ms."""
    tau_m, r_in = np.asarray(tau_m, float)[:, None], np.asarray(r_in, float)[:, None]
    return r_in * current * (1.0 - np.exp(-t[None, :] / tau_m))


class PassiveMembrane(Optimizee):
    """Fit ``tau_m`` (ms) and ``r_in`` (MOhm) to the response to a ``current`` step (nA).

    ``recording``: a .npy file with the trace (mV, sampled every ``dt`` ms); None synthesises
    one from ``true_tau_m`` and ``true_r_in``. ``noise``: std (mV) of the measurement noise
    of each evaluation, drawn from its seed. ``held_out_current``: a second step that
    :meth:`validate` scores (synthetic data only). Fitness: RMS error (mV), minimised.
    """

    min_batch = 8  # chunks smaller than this are evaluated one at a time (measure yours)

    def __init__(self, recording: str | None = None, current: float = 0.1, dt: float = 0.5,
                 duration: float = 100.0, true_tau_m: float = 20.0, true_r_in: float = 150.0,
                 noise: float = 0.0, held_out_current: float = 0.05):
        self.recording = recording
        self.current = current
        self.dt = dt
        self.duration = duration
        self.true_tau_m = true_tau_m
        self.true_r_in = true_r_in
        self.noise = noise
        self.held_out_current = held_out_current

    def space(self) -> Space:
        if not 0.0 < self.dt < self.duration:
            raise ConfigError(f"passive-membrane: need 0 < dt < duration, got dt={self.dt}")
        return Space([Float("tau_m", 2.0, 50.0), Float("r_in", 10.0, 500.0)])

    def objectives(self) -> Objectives:
        return Objectives(("rms_error",), ("min",))

    def targets(self) -> np.ndarray:  # what the ensemble Kalman filter fits observations to
        return self._trace(self.current)

    def setup(self) -> None:  # once per worker: load the data
        self._target = self._trace(self.current)
        self._t = np.arange(len(self._target)) * self.dt

    def _trace(self, current: float) -> np.ndarray:
        if self.recording is not None:
            return np.load(self.recording)
        t = np.arange(0.0, self.duration, self.dt)
        return membrane_voltage([self.true_tau_m], [self.true_r_in], current, t)[0]

    def _score(self, voltage: np.ndarray, target: np.ndarray, seed: int) -> Evaluation:
        if self.noise:
            voltage = voltage + np.random.default_rng(seed).normal(0.0, self.noise, voltage.shape)
        error = float(np.sqrt(np.mean((voltage - target) ** 2)))
        return Evaluation(fitness=(error,), observation=voltage)

    def evaluate(self, params: dict, seed: int) -> Evaluation:
        return self.evaluate_batch([params], [seed])[0]

    def evaluate_batch(self, params: Sequence[dict], seeds: Sequence[int]) -> list[Evaluation]:
        tau_m, r_in = (np.array([p[k] for p in params]) for k in ("tau_m", "r_in"))
        voltages = membrane_voltage(tau_m, r_in, self.current, self._t)
        return [self._score(v, self._target, s) for v, s in zip(voltages, seeds)]

    def validate(self, params: dict, seed: int) -> Evaluation | None:
        if self.recording is not None:
            return None  # no held-out recording
        v = membrane_voltage([params["tau_m"]], [params["r_in"]], self.held_out_current, self._t)
        return self._score(v[0], self._trace(self.held_out_current), seed)
