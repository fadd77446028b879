"""Parallel tempering: annealing chains on a temperature ladder that exchange states."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem
from .annealing import AsyncChains, adapt_steps, initial_temperature, metropolis
from .utils import from_unit, positive_int, to_unit


class ParallelTempering(AsyncChains):
    """Parallel tempering / replica exchange (Swendsen & Wang 1986; Geyer 1991;
    Earl & Deem 2005): ``population`` Metropolis chains at fixed temperatures: the coldest at
    temperature 0 (it accepts improvements only), the others on a geometric ladder from
    ``t_max * t_ratio`` to ``t_max`` (hottest). After each generation's Metropolis moves,
    neighbouring chains (even pairs, then odd pairs on alternate generations) swap their states
    with probability ``min(1, exp((1/T_i - 1/T_j) (E_i - E_j)))``: the cold chain takes over
    any better state a hotter one found. Works in the unit cube of the space's bounds.

    Each chain adapts its step size by the 1/5th success rule (starting geometric from
    ``step_min`` to ``step_max``, coldest smallest). The former fixed steps (smallest 0.005
    of the range) and a coldest temperature of 1e-4 of the initial loss spread kept the cold
    chain from resolving anything finer (on the 10-D sphere, 10,000 evaluations, it stopped
    at 5e-3; now below 1e-8); with a greedy, step-adapting cold chain it converges like a
    (1+1)-ES fed by the hot chains.

    Hyper-parameters (defaults): ``population`` (number of chains, 8); ``t_max`` hottest
    temperature in loss units (None: the std of the first generation's losses); ``t_ratio``
    coldest non-zero / hottest temperature (1e-3); ``step_min`` (0.01) and ``step_max`` (0.2)
    initial step stds as fractions of each range; ``bounding`` ("clip"); ``penalty`` (None:
    worse than the worst); ``weights`` (None).

    Async mode: the chains take asks in turn and move as their results arrive (see
    :class:`~l2l.optimizers.annealing.AsyncChains`); after each move the chain tries an
    exchange with one neighbour (up and down alternately), by the rule above.
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("current", "current_losses", "proposals",
                                                   "k", "t_hot", "steps", "asked", "chain_k")
    asynchronous: ClassVar[bool] = True
    scale_attribute: ClassVar[str] = "t_hot"

    def __init__(self, population: int = 8, t_max: float | None = None, t_ratio: float = 1e-3,
                 step_min: float = 0.01, step_max: float = 0.2, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.t_max = t_max
        self.t_ratio = t_ratio
        self.step_min = step_min
        self.step_max = step_max
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        n = positive_int("population", self.population, 2)
        if not 0 < float(self.t_ratio) <= 1:
            raise ConfigError(f"t_ratio must be in (0, 1], got {self.t_ratio}")
        if self.t_max is not None and float(self.t_max) <= 0:
            raise ConfigError(f"t_max must be positive, got {self.t_max}")
        d = self.space.dim
        self.current = np.zeros((0, d))
        self.current_losses = np.zeros(0)
        self.proposals = self.rng.uniform(size=(n, d))
        self.k = 0
        self.t_hot = None if self.t_max is None else float(self.t_max)
        self.steps = self._ladder(float(self.step_min), float(self.step_max))
        self.asked, self.chain_k = 0, np.zeros(n, dtype=np.int64)

    def _ladder(self, low: float, high: float) -> np.ndarray:
        n = int(self.population)
        return low * (high / low) ** (np.arange(n) / max(n - 1, 1))

    def temperatures(self, hot: float | None = None) -> np.ndarray:
        """0 for the coldest chain, then geometric up to the hottest (``t_hot``, or ``hot``
        before that is known)."""
        assert self.t_hot is not None or hot is not None, \
            "the hottest temperature is set by the first tell()"
        n = int(self.population)
        hot = float(self.t_hot) if self.t_hot is not None else float(hot)  # type: ignore[arg-type]
        low = hot * float(self.t_ratio)
        ladder = low * (hot / low) ** (np.arange(n - 1) / max(n - 2, 1))
        return np.concatenate([[0.0], ladder])

    def chain_temperature(self, chain: int, scale: float) -> float:
        return float(self.temperatures(scale)[chain])

    def moved(self, chain: int, scale: float) -> None:
        other = chain + 1 if int(self.chain_k[chain]) % 2 else chain - 1
        if not 0 <= other < int(self.population) or np.isnan(self.current_losses[other]):
            return
        i, j = min(chain, other), max(chain, other)
        temps = self.temperatures(scale)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            e = self.current_losses
            gain = (1 / temps[i] - 1 / temps[j]) * (e[i] - e[j])
            prob = float(np.nan_to_num(np.exp(np.minimum(0.0, gain))))
        if self.rng.uniform() < prob:
            self.current[[i, j]] = self.current[[j, i]]
            self.current_losses[[i, j]] = self.current_losses[[j, i]]

    def ask_vectors(self) -> np.ndarray:
        if len(self.current):
            self.proposals = self.current + self.steps[:, None] * self.rng.standard_normal(
                self.current.shape)
        return from_unit(self.space, self.proposals)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        points = to_unit(self.space, vectors)
        if not len(self.current):
            # the initial points: coldest chain gets the best one
            order = np.argsort(losses, kind="stable")
            self.current, self.current_losses = points[order], losses[order]
            if self.t_hot is None:
                self.t_hot = initial_temperature(losses)
            return
        temps = self.temperatures()
        self.steps = adapt_steps(np.asarray(self.steps, dtype=float),
                                 losses < self.current_losses, self.space.dim)
        accept = metropolis(self.rng, self.current_losses, losses, temps)
        self.current = np.where(accept[:, None], points, self.current)
        self.current_losses = np.where(accept, losses, self.current_losses)
        self._swap(temps)
        self.k = int(self.k) + 1

    def _swap(self, temps: np.ndarray) -> None:
        i = np.arange(int(self.k) % 2, len(temps) - 1, 2)
        j = i + 1
        e = self.current_losses
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            inverse = 1 / temps
            prob = np.nan_to_num(np.exp(np.minimum(0.0, (inverse[i] - inverse[j]) * (e[i] - e[j]))))
        swap = self.rng.uniform(size=len(i)) < prob
        a, b = i[swap], j[swap]
        self.current[[*a, *b]] = self.current[[*b, *a]]
        self.current_losses[[*a, *b]] = self.current_losses[[*b, *a]]
