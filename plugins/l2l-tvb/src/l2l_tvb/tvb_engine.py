"""The ``tvb`` engine: one simulation of the real tvb-library simulator per parameter set."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from l2l import ConfigError

from .connectome import Connectome


def _tvb_part(module: Any, kind: str, name: str, kwargs: Mapping[str, Any]) -> Any:
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise ConfigError(f"tvb: unknown {kind} {name!r} in {module.__name__}")
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) if np.ndim(v) <= 1 and not isinstance(v, str)
              else v for k, v in kwargs.items()}
    try:
        part = cls(**arrays)
    except Exception as exc:  # noqa: BLE001 - TVB raises various trait errors
        raise ConfigError(f"tvb: cannot build {kind} {name}: {exc}") from None
    return own_boundaries(part)


def own_boundaries(model: Any) -> Any:
    """``model`` with its own copy of ``state_variable_boundaries``: TVB's Simulator.configure
    fills the unbounded sides with the float maximum in place, which would otherwise write into
    the dict the model class shares with every later instance."""
    bounds = getattr(model, "state_variable_boundaries", None)
    if isinstance(bounds, dict):
        vars(model)["state_variable_boundaries"] = {k: np.array(v, copy=True) for k, v in bounds.items()}
    return model


def simulate_tvb(connectome: Connectome, model: str, n_steps: int, seed: int, *,
                 params: Mapping[str, Any] | None = None, coupling: str = "Linear",
                 coupling_params: Mapping[str, Any] | None = None, speed: float = 3.0,
                 integrator: str = "HeunStochastic", dt: float = 0.1, nsig: Any = 0.0,
                 monitor: str = "TemporalAverage", period: float | None = None,
                 voi: Sequence[str] | None = None, history: np.ndarray | None = None,
                 state_range: Mapping[str, Sequence[float]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run tvb-library for ``n_steps`` steps; returns the monitor's (times, data[t, voi, node]).

    ``model``/``coupling``/``integrator``/``monitor``: class names in tvb.simulator's modules;
    ``params``: model parameters; ``nsig``: noise of stochastic integrators (seeded by
    ``seed``); ``history``: initial conditions (horizon, nsv, N) or None for TVB's random ones,
    drawn from the model's ``state_variable_range`` with the entries of ``state_range``
    ({state variable: (low, high)}) in place of TVB's.
    """
    from tvb.simulator import coupling as couplings
    from tvb.simulator import integrators, models, monitors, noise
    from tvb.simulator.simulator import Simulator

    mdl = _tvb_part(models, "model", model, params or {})
    bad = [v for v in (*(voi or ()), *(state_range or {})) if v not in mdl.state_variables]
    if bad:
        raise ConfigError(f"model {model}: no state variable(s) {bad}")
    if voi is not None:
        mdl.variables_of_interest = tuple(voi)
    if state_range:
        # a Final trait whose default dict all instances of the class share: give this model
        # its own (mutating the shared one would change every later model of the class)
        vars(mdl)["state_variable_range"] = {**mdl.state_variable_range,
                                             **{k: np.asarray(v, float) for k, v in state_range.items()}}
    cpl = _tvb_part(couplings, "coupling", coupling, coupling_params or {})
    integ_cls = getattr(integrators, integrator, None)
    if not isinstance(integ_cls, type) or not issubclass(integ_cls, integrators.Integrator):
        raise ConfigError(f"tvb: unknown integrator {integrator!r}")
    if issubclass(integ_cls, integrators.IntegratorStochastic):
        integ = integ_cls(dt=dt, noise=noise.Additive(nsig=np.atleast_1d(np.asarray(nsig, float)),
                                                      noise_seed=int(seed) % 2**32))
    else:
        integ = integ_cls(dt=dt)
    mon_cls = getattr(monitors, monitor, None)
    if not isinstance(mon_cls, type) or not issubclass(mon_cls, monitors.Monitor):
        raise ConfigError(f"tvb: unknown monitor {monitor!r}")
    mon = mon_cls() if period is None or monitor == "Raw" else mon_cls(period=float(period))
    sim = Simulator(model=mdl, connectivity=connectome.to_tvb(speed), coupling=cpl,
                    integrator=integ, monitors=(mon,), simulation_length=n_steps * dt)
    if history is not None:
        sim.initial_conditions = np.asarray(history, dtype=float)[..., np.newaxis]
    sim.configure()
    (times, data), = sim.run()
    return np.asarray(times), np.asarray(data)[..., 0]
