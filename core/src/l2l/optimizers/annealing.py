"""Simulated annealing, one Markov chain per individual, with selectable cooling schedules."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, positive_int, to_unit

SCHEDULES = ("exponential", "logarithmic", "linear_multiplicative", "quadratic_multiplicative",
             "linear_additive", "quadratic_additive", "cosine_additive")


def temperature(schedule: str, k: int, t0: float, decay: float, t_end: float,
                iterations: int) -> float:
    """Temperature at step ``k`` (k = 0 gives ``t0``). Multiplicative schedules use ``decay``;
    additive ones go from ``t0`` to ``t_end * t0`` in ``iterations`` steps and stay there."""
    if schedule == "exponential":
        return t0 * decay**k
    if schedule == "logarithmic":
        return t0 / (1.0 + decay * np.log1p(k))
    if schedule == "linear_multiplicative":
        return t0 / (1.0 + decay * k)
    if schedule == "quadratic_multiplicative":
        return t0 / (1.0 + decay * k * k)
    low = t_end * t0
    left = max(0.0, 1.0 - k / iterations)
    if schedule == "linear_additive":
        return low + (t0 - low) * left
    if schedule == "quadratic_additive":
        return low + (t0 - low) * left**2
    return low + 0.5 * (t0 - low) * (1.0 + np.cos(np.pi * (1.0 - left)))


def metropolis(rng: np.random.Generator, current: np.ndarray, proposed: np.ndarray,
               temperatures: np.ndarray) -> np.ndarray:
    """Which proposals are accepted: always when better, else with probability
    ``exp(-(proposed - current) / T)``."""
    delta = proposed - current
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        prob = np.exp(-np.maximum(delta, 0.0) / np.maximum(temperatures, 1e-300))
    return rng.uniform(size=len(delta)) < np.nan_to_num(prob)


def initial_temperature(losses: np.ndarray) -> float:
    """A temperature on the scale of the losses: their standard deviation (1 if zero)."""
    finite = losses[losses < 1e11]
    std = float(finite.std()) if finite.size > 1 else 0.0
    return std if std > 0 else 1.0


def adapt_steps(steps: np.ndarray, improved: np.ndarray, d: int) -> np.ndarray:
    """The 1/5th success rule of one (1+1) chain per row (Rechenberg 1973; Kern et al. 2004):
    a step that improved grows the step size by exp(0.8 / D), one that did not shrinks it by
    exp(-0.2 / D), D = 1 + d / 2, so it settles where a fifth of the proposals improve. Kept in
    [1e-12, 0.5] of each range."""
    damping = 1.0 + d / 2.0
    factor = np.where(improved, np.exp(0.8 / damping), np.exp(-0.2 / damping))
    return np.clip(steps * factor, 1e-12, 0.5)


class AsyncChains(VectorOptimizer):
    """Async mode of the chain optimizers (``sa``, ``pt``): asks go to the chains in turn
    (ticket = chain); a chain's first result sets its point, every later one is a Metropolis
    move of that chain at :meth:`chain_temperature`, compared with the chain's point when the
    result arrives (several proposals of one chain may be in flight). Subclasses keep
    ``current``, ``current_losses``, ``proposals``, ``steps`` and list ``asked`` and
    ``chain_k`` (moves made per chain) among their state attributes."""

    current: np.ndarray
    current_losses: np.ndarray
    proposals: np.ndarray
    steps: np.ndarray
    asked: int
    chain_k: np.ndarray
    population: int
    #: the attribute holding the temperature scale, set from the chains' first losses
    scale_attribute: ClassVar[str] = "t_start"

    def chain_temperature(self, chain: int, scale: float) -> float:
        """The temperature of ``chain`` for its next move (``scale``: the start temperature
        when the user gave none, from the chains' first losses)."""
        raise NotImplementedError

    def moved(self, chain: int, scale: float) -> None:
        """Called after each Metropolis move of ``chain`` (``pt`` exchanges states here)."""

    def chain_scale(self) -> float:
        """The spread of the first losses of the chains set so far."""
        known = np.asarray(self.current_losses, dtype=float)
        return initial_temperature(known[np.isfinite(known)])

    def known_losses(self) -> np.ndarray:
        return np.asarray(self.current_losses, dtype=float)

    def ask_vector(self) -> tuple[int, np.ndarray]:
        n, d = int(self.population), self.space.dim
        if len(self.current) != n:  # first ask: no chain has a point yet
            self.current, self.current_losses = np.full((n, d), np.nan), np.full(n, np.nan)
            self.chain_k = np.zeros(n, dtype=np.int64)
        asked = int(self.asked)
        self.asked, chain = asked + 1, asked % n
        if asked < n:
            point = self.proposals[chain]
        elif np.isnan(self.current_losses[chain]):
            point = self.rng.uniform(size=d)
        else:
            point = self.current[chain] + self.steps[chain] * self.rng.standard_normal(d)
        return chain, from_unit(self.space, point)

    def tell_loss(self, ticket: int, vector: np.ndarray, loss: float, evaluation: Evaluation) -> None:
        c = int(ticket)
        point = to_unit(self.space, vector.reshape(1, -1))[0]
        first = np.isnan(self.current_losses[c])
        scale = self.chain_scale()
        if first:
            self.current[c], self.current_losses[c] = point, loss
            if getattr(self, self.scale_attribute) is None and not np.isnan(self.current_losses).any():
                setattr(self, self.scale_attribute, initial_temperature(self.current_losses))
            return
        self.steps[c] = adapt_steps(np.asarray(self.steps, dtype=float)[c:c + 1],
                                    np.array([loss < self.current_losses[c]]), self.space.dim)[0]
        accept = metropolis(self.rng, self.current_losses[c:c + 1], np.array([loss]),
                            np.array([self.chain_temperature(c, scale)]))[0]
        if accept:
            self.current[c], self.current_losses[c] = point, loss
        self.chain_k[c] += 1
        self.moved(c, scale)


class SimulatedAnnealing(AsyncChains):
    """Simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983), ``population`` independent
    chains (one per individual, as in L2L). Each generation every chain proposes a Gaussian
    step from its current point and accepts it by the Metropolis rule at the current
    temperature. Works in the unit cube of the space's bounds.

    Each chain adapts its own step size by the 1/5th success rule (:func:`adapt_steps`). The
    former step, ``step * (T / t0) ** 0.5``, tied to the temperature, froze the chains within
    a few hundred generations whatever the landscape (at d = 20 on COCO's bbob suite it was
    barely ahead of random search: 0.035 of the targets vs 0.028); with adaptation the cold
    chains converge like (1+1)-ES and the hot phase still explores.

    Defaults: 8 chains (was 16): with step adaptation each chain is a local search, and at
    budgets of 1000·d evaluations fewer, longer chains get further (on the 20-D sphere, 20,000
    evaluations: 4 chains 8e-22, 8 chains 3e-14, 16 chains 2e-6, a development run); cooling
    by 0.97 per generation (was 0.93) from the spread of the first generation's losses, so
    the hot phase lasts ~100 generations. Their effect on COCO's bbob suite is in
    ``bench/results/optimizers.md`` (``sa`` rows).

    Hyper-parameters (defaults): ``population`` (8); ``schedule`` (one of
    exponential, logarithmic, linear_multiplicative, quadratic_multiplicative,
    linear_additive, quadratic_additive, cosine_additive; "exponential"); ``t0`` initial
    temperature in loss units (None: the std of the first generation's losses); ``decay``
    of the multiplicative schedules (0.97); ``t_end`` final temperature of the additive
    schedules as a fraction of t0 (1e-3); ``iterations`` of the additive schedules (100);
    ``step`` initial step std as a fraction of each range (0.1); ``bounding`` ("clip");
    ``penalty`` (None: worse than the worst); ``weights`` (None).

    Async mode: the chains take asks in turn and each moves (and cools, by its own step
    count) as its results arrive; see :class:`AsyncChains`.
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("current", "current_losses", "proposals",
                                                   "k", "t_start", "steps", "asked", "chain_k")
    asynchronous: ClassVar[bool] = True

    def __init__(self, population: int = 8, schedule: str = "exponential",
                 t0: float | None = None, decay: float = 0.97, t_end: float = 1e-3,
                 iterations: int = 100, step: float = 0.1, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.schedule = schedule
        self.t0 = t0
        self.decay = decay
        self.t_end = t_end
        self.iterations = iterations
        self.step = step
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        n = positive_int("population", self.population, 1)
        choice("schedule", self.schedule, SCHEDULES)
        positive_int("iterations", self.iterations)
        if self.t0 is not None and float(self.t0) <= 0:
            raise ConfigError(f"t0 must be positive, got {self.t0}")
        if float(self.step) <= 0:
            raise ConfigError(f"step must be positive, got {self.step}")
        d = self.space.dim
        self.current = np.zeros((0, d))
        self.current_losses = np.zeros(0)
        self.proposals = self.rng.uniform(size=(n, d))
        self.k = 0
        self.t_start = None if self.t0 is None else float(self.t0)
        self.steps = np.full(n, float(self.step))
        self.asked, self.chain_k = 0, np.zeros(n, dtype=np.int64)

    def chain_temperature(self, chain: int, scale: float) -> float:
        t0 = scale if self.t_start is None else float(self.t_start)
        return temperature(self.schedule, int(self.chain_k[chain]), t0, float(self.decay),
                           float(self.t_end), int(self.iterations))

    def temperature(self) -> float:
        assert self.t_start is not None, "the start temperature is set by the first tell()"
        return temperature(self.schedule, int(self.k), float(self.t_start), float(self.decay),
                           float(self.t_end), int(self.iterations))

    def ask_vectors(self) -> np.ndarray:
        if len(self.current):
            self.proposals = self.current + self.steps[:, None] * self.rng.standard_normal(
                self.current.shape)
        return from_unit(self.space, self.proposals)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        points = to_unit(self.space, vectors)
        if not len(self.current):
            self.current, self.current_losses = points, losses
            if self.t_start is None:
                self.t_start = initial_temperature(losses)
            return
        self.steps = adapt_steps(np.asarray(self.steps, dtype=float),
                                 losses < self.current_losses, self.space.dim)
        accept = metropolis(self.rng, self.current_losses, losses,
                            np.full(len(losses), self.temperature()))
        self.current = np.where(accept[:, None], points, self.current)
        self.current_losses = np.where(accept, losses, self.current_losses)
        self.k = int(self.k) + 1
