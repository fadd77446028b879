"""Classic benchmark functions as an optimizee (``name = "function"``).

All are minimised, defined for any dimension, vectorised over rows, and have their global
minimum 0 at a known point (``shift`` moves it; ``noise`` adds Gaussian noise drawn from the
evaluation's seed, so noisy runs stay reproducible).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizee import Optimizee
from ..space import Float, Params, Space


def sphere(x: np.ndarray) -> np.ndarray:
    return np.sum(x**2, axis=-1)


def rastrigin(x: np.ndarray) -> np.ndarray:
    return 10.0 * x.shape[-1] + np.sum(x**2 - 10.0 * np.cos(2 * np.pi * x), axis=-1)


def rosenbrock(x: np.ndarray) -> np.ndarray:
    return np.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1 - x[..., :-1]) ** 2, axis=-1)


def ackley(x: np.ndarray) -> np.ndarray:
    d = x.shape[-1]
    return (-20.0 * np.exp(-0.2 * np.sqrt(np.sum(x**2, axis=-1) / d))
            - np.exp(np.sum(np.cos(2 * np.pi * x), axis=-1) / d) + 20.0 + np.e)


def griewank(x: np.ndarray) -> np.ndarray:
    i = np.sqrt(np.arange(1, x.shape[-1] + 1))
    return 1.0 + np.sum(x**2, axis=-1) / 4000.0 - np.prod(np.cos(x / i), axis=-1)


def schwefel(x: np.ndarray) -> np.ndarray:
    return 418.9828872724338 * x.shape[-1] - np.sum(x * np.sin(np.sqrt(np.abs(x))), axis=-1)


def styblinski_tang(x: np.ndarray) -> np.ndarray:
    # shifted so that the minimum (at x_i = -2.903534) is 0
    return 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x, axis=-1) + 39.16616570377142 * x.shape[-1]


def levy(x: np.ndarray) -> np.ndarray:
    w = 1 + (x - 1) / 4
    head = np.sin(np.pi * w[..., 0]) ** 2
    mid = np.sum((w[..., :-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[..., :-1] + 1) ** 2), axis=-1)
    tail = (w[..., -1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[..., -1]) ** 2)
    return head + mid + tail


def zakharov(x: np.ndarray) -> np.ndarray:
    s = np.sum(0.5 * np.arange(1, x.shape[-1] + 1) * x, axis=-1)
    return np.sum(x**2, axis=-1) + s**2 + s**4


#: name -> (function, default half-width of the symmetric domain, location of the minimum)
FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float, float]] = {
    "sphere": (sphere, 5.12, 0.0),
    "rastrigin": (rastrigin, 5.12, 0.0),
    "rosenbrock": (rosenbrock, 5.0, 1.0),
    "ackley": (ackley, 32.768, 0.0),
    "griewank": (griewank, 600.0, 0.0),
    "schwefel": (schwefel, 500.0, 420.9687462275036),
    "styblinski-tang": (styblinski_tang, 5.0, -2.903534027771178),
    "levy": (levy, 10.0, 1.0),
    "zakharov": (zakharov, 10.0, 0.0),
}


class FunctionOptimizee(Optimizee):
    """A benchmark function of ``dimension`` variables, parameter ``x`` (an array).

    ``function``: one of :data:`FUNCTIONS`. ``bound``: half-width of the domain
    ``[-bound, bound]`` (None: the function's customary domain). ``shift``: added to the
    location of the optimum (the function is evaluated at ``x - shift``). ``noise``: std of
    additive Gaussian noise. ``cost``: seconds of busy CPU work added per evaluation (for
    benchmarks of executors).
    """

    def __init__(self, function: str = "sphere", dimension: int = 2, bound: float | None = None,
                 shift: float = 0.0, noise: float = 0.0, cost: float = 0.0):
        self.function = function
        self.dimension = dimension
        self.bound = bound
        self.shift = shift
        self.noise = noise
        self.cost = cost

    def _spec(self) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
        if self.function not in FUNCTIONS:
            raise ConfigError(f"unknown function {self.function!r} (known: {', '.join(FUNCTIONS)})")
        if int(self.dimension) < 1 or (self.function in ("rosenbrock",) and self.dimension < 2):
            raise ConfigError(f"function {self.function!r}: dimension {self.dimension} is too small")
        return FUNCTIONS[self.function]

    def space(self) -> Space:
        _, half, _ = self._spec()
        b = half if self.bound is None else float(self.bound)
        return Space([Float("x", -b, b, shape=(int(self.dimension),))])

    def optimum(self) -> np.ndarray:
        """Location of the global minimum (value 0)."""
        return np.full(int(self.dimension), self._spec()[2] + self.shift)

    def values(self, x: np.ndarray) -> np.ndarray:
        """Noise-free function values of the rows of ``x``."""
        return self._spec()[0](np.asarray(x, dtype=float) - self.shift)

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        if self.cost > 0:
            _busy(self.cost)
        value = float(self.values(params["x"]))
        if self.noise:
            value += float(np.random.default_rng(seed).normal(0.0, self.noise))
        return Evaluation(fitness=(value,))

    fresh_seeds = "the function value with new noise draws"

    def held_out(self) -> dict[str, str]:
        """With ``noise``: ``"noise-free"``, the function value without noise (the truth
        that the noisy scores estimate)."""
        return {"noise-free": "the function value without noise: the truth"} if self.noise else {}

    def score_held_out(self, name: str, params: Params, seed: int) -> Evaluation:
        if name != "noise-free" or not self.noise:
            raise ConfigError(f"function: no held-out score {name!r} "
                              f"(offers: {', '.join(self.held_out()) or 'none'})")
        return Evaluation(fitness=(float(self.values(params["x"])),))

    def evaluate_batch(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Evaluation]:
        if self.cost > 0:
            _busy(self.cost * len(params))
        values = self.values(np.array([p["x"] for p in params]))
        if self.noise:
            values = values + np.array([np.random.default_rng(s).normal(0.0, self.noise) for s in seeds])
        return [Evaluation(fitness=(float(v),)) for v in values]


def _busy(seconds: float) -> None:
    """Burn CPU (not sleep) for about ``seconds``."""
    import time

    end = time.perf_counter() + seconds
    acc = 0.0
    while time.perf_counter() < end:
        acc += float(np.sum(np.sqrt(np.arange(200.0))))
