"""Models the batched engine integrates, described the way TVB defines them.

Each :class:`ModelSpec` names a ``tvb.simulator.models`` class, its state variables, coupling
variables (``cvar``), the parameters the kernels read (in kernel order) and the state-variable
bounds TVB's integrator applies. Parameter defaults are read from the installed TVB classes, so
they follow TVB. The equations themselves live in the kernels (``batched_cpu``/``batched_gpu``)
and are written with TVB's operation order, so that trajectories agree to rounding error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from l2l import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    """What the batched kernels need to know about one TVB model."""

    name: str
    kernel_id: int
    state_variables: tuple[str, ...]
    cvars: tuple[int, ...]
    params: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    @property
    def nsv(self) -> int:
        return len(self.state_variables)

    def active_cvars(self, params: np.ndarray) -> np.ndarray:
        """Per coupling variable: whether any instance uses its input (``params``: the
        kernel's (n_params, B) array). Only MontbrioPazoRoxin weighs its inputs (cr, cv)."""
        active = np.ones(len(self.cvars), dtype=np.bool_)
        if self.kernel_id == MPR:
            active[:] = [np.any(params[self.params.index("cr")] != 0),
                         np.any(params[self.params.index("cv")] != 0)]
        return active

    def tvb_class(self) -> type:
        from tvb.simulator import models

        return getattr(models, self.name)

    def defaults(self) -> dict[str, float]:
        """TVB's default value of each kernel parameter."""
        return dict(_tvb_defaults(self)[0])

    def state_range(self, overrides: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
        """TVB's ``state_variable_range`` as an array of shape (nsv, 2), with the entries of
        ``overrides`` ({state variable: (low, high)}) in place of TVB's."""
        ranges = _tvb_defaults(self)[1].copy()
        for name, pair in (overrides or {}).items():
            ranges[self.state_variables.index(name)] = pair
        return ranges


@lru_cache(maxsize=None)
def _tvb_defaults(spec: ModelSpec) -> tuple[dict[str, float], np.ndarray]:
    model = spec.tvb_class()()
    values = {p: float(np.asarray(getattr(model, p)).reshape(-1)[0]) for p in spec.params}
    svr = model.state_variable_range
    return values, np.array([svr[s] for s in spec.state_variables], dtype=float)


_INF = np.inf

#: kernel ids (shared by the CPU and GPU kernels)
G2D, KURAMOTO, RWW, MPR = 0, 1, 2, 3

MODELS: dict[str, ModelSpec] = {
    "Generic2dOscillator": ModelSpec(
        "Generic2dOscillator", G2D, ("V", "W"), (0,),
        ("tau", "I", "a", "b", "c", "d", "e", "f", "g", "alpha", "beta", "gamma"),
        (-_INF, -_INF), (_INF, _INF)),
    "Kuramoto": ModelSpec("Kuramoto", KURAMOTO, ("theta",), (0,), ("omega",), (-_INF,), (_INF,)),
    "ReducedWongWang": ModelSpec(
        "ReducedWongWang", RWW, ("S",), (0,),
        ("a", "b", "d", "gamma", "tau_s", "w", "J_N", "I_o"), (0.0,), (1.0,)),
    "MontbrioPazoRoxin": ModelSpec(
        "MontbrioPazoRoxin", MPR, ("r", "V"), (0, 1),
        ("tau", "I", "Delta", "J", "eta", "cr", "cv"), (0.0, -_INF), (_INF, _INF)),
}

#: coupling functions the batched engine offers, as TVB's ``tvb.simulator.coupling`` names them
COUPLINGS = {"Linear": 0, "Difference": 1, "Kuramoto": 2}


def model_spec(name: str) -> ModelSpec:
    """The spec of a model the batched engine supports, or a ConfigError naming the choices."""
    if name not in MODELS:
        raise ConfigError(f"batched engine: model {name!r} is not supported "
                          f"(supported: {', '.join(MODELS)}; use engine = 'tvb' for any TVB model)")
    return MODELS[name]
