"""``auto``: choose an optimizer and its settings from the problem, as nevergrad's NGOpt does."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from ..space import Categorical, Params
from .utils import positive_int

#: above this many parameters a full covariance (O(d^2) memory, O(d^3) per update) costs more
#: than the evaluations of a cheap model: separable NES instead of CMA-ES
LARGE_DIM = 300


def choose(problem: Problem, budget: int | None, noisy: bool) -> tuple[str, dict[str, Any]]:
    """The optimizer (registered name) and hyper-parameters ``auto`` runs on ``problem``.

    A deterministic function of the problem and the hints, so a resumed run makes the same
    choice. The rules, and the evidence (``bench/results/optimizers.md``, COCO's bbob suite):

    - no parameters to search: ``random``;
    - more than ``LARGE_DIM`` parameters: ``nes`` with ``variant="snes"`` — a diagonal
      Gaussian, linear cost per evaluation, where CMA-ES's O(d^2) memory and O(d^3) updates
      would dominate (a cost argument; bbob stops at d = 40, the bench at d = 20, where SNES
      was already ahead of xNES);
    - mostly categorical parameters (more than half of them): ``ga``, whose crossover and
      mutation treat choices as unordered, where a Gaussian on choice indices imposes an order
      (not measured: bbob has no categorical variables);
    - a noisy optimizee (``noisy=True``): ``cmaes`` with IPOP restarts and four times the
      default population, which averages the noise in the ranking: on bbob with severe
      multiplicative noise (d = 5, 1000·d) 0.347 of the targets vs 0.129 for the default on
      instance 1 (0.385 ± 0.024 over instances 1-3);
    - otherwise ``cmaes`` (BIPOP) with its defaults, whatever the budget: the best of l2l's
      optimizers on bbob at every budget from 10·d to 1000·d at d = 5 and 10; at d = 20
      ``gd`` (10·d-30·d) and ``nes`` (100·d-300·d) were ahead by a few hundredths on one
      instance, ``cmaes`` far ahead at 1000·d. With integer parameters too: on bbob-mixint
      (d = 5, 1000·d) ``cmaes`` 0.718 ± 0.031 (instances 1-3), ``ga`` 0.471 (instance 1).
      A smaller initial step (0.15 of each
      range) at budgets up to 100·d, chosen here while ``cmaes`` mirrored samples at the
      bounds (+0.008 ± 0.004 of the targets at 100·d then), is level with the default since
      ``cmaes`` clips and penalises instead (+0.001 ± 0.006 at 100·d over d = 5, 10, 20,
      instances 1-6: it slows the run onto the slope's optimum on the bounds), so the budget
      no longer changes the choice.
    """
    space = problem.space
    d = space.dim
    if d == 0:
        return "random", {}
    if d > LARGE_DIM:
        return "nes", {"variant": "snes"}
    categorical = sum(isinstance(p, Categorical) for p in space)
    if categorical * 2 > len(space.parameters):
        return "ga", {}
    if noisy:
        lam = 4 + int(3 * np.log(d))
        return "cmaes", {"restarts": "ipop", "population": 4 * lam}
    return "cmaes", {}


class Auto(VectorOptimizer):
    """Picks an optimizer and its settings from the dimension, the parameter types and a noise
    hint (see :func:`choose` for the rules and their evidence), then runs it. ``auto``'s state
    is its choice's state; the choice is recomputed on resume (it depends only on the problem
    and these hyper-parameters).

    Hyper-parameters (defaults): ``budget`` evaluations you plan to spend, generations x
    population or the stop's ``max_evaluations`` (None: unknown; checked and passed to
    :func:`choose`, where no rule depends on it at present: on bbob no budget from 10·d to
    1000·d measured a better choice than the default ``cmaes``);
    ``noisy`` (False): the optimizee's fitness is stochastic; ``population`` (None: the
    chosen optimizer's default; else candidates per generation, e.g. the number of workers,
    passed on and overriding the choice's own population); ``bounding`` ("clip"),
    ``penalty`` (None) and ``weights`` (None) are passed to the chosen optimizer.
    """

    def __init__(self, budget: int | None = None, noisy: bool = False,
                 population: int | None = None, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.budget = budget
        self.population = population
        self.noisy = noisy
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        from ..config import build

        super().start(problem)
        if self.budget is not None:
            positive_int("budget", self.budget)
        if self.population is not None:
            positive_int("population", self.population, 2)
        if not isinstance(self.noisy, bool):
            raise ConfigError(f"noisy must be true or false, got {self.noisy!r}")
        budget = self.budget if self.budget is not None else getattr(problem, "budget", None)
        self.choice = choose(self.problem, None if budget is None else int(budget),
                             bool(self.noisy))
        name, kwargs = self.choice
        shared = {"bounding": self.bounding, "penalty": self.penalty, "weights": self.weights}
        if name == "random":
            shared = {}
        if self.population is not None:
            kwargs = {**kwargs, "population": int(self.population)}
        self.inner = build("optimizer", name, **kwargs, **shared)
        self.inner.start(problem)

    @property
    def done(self) -> bool:
        return self.inner.done

    def ask(self) -> list[Params]:
        return self.inner.ask()

    def tell(self, candidates: Sequence[Params], evaluations: Sequence[Evaluation]) -> None:
        self.inner.tell(candidates, evaluations)

    def ask_vectors(self) -> np.ndarray:
        return self.inner.ask_vectors()

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        self.inner.tell_losses(vectors, losses, evaluations)

    def state(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state,
                "attributes": {"choice": [self.choice[0], self.choice[1]],
                               "inner": self.inner.state()}}

    def set_state(self, state: dict[str, Any]) -> None:
        saved = state["attributes"]["choice"]
        if [saved[0], dict(saved[1])] != [self.choice[0], self.choice[1]]:
            raise ConfigError(f"auto: the saved run used {saved[0]} {dict(saved[1])}, but this "
                              f"problem and these settings choose {self.choice[0]} "
                              f"{self.choice[1]}")
        self.rng.bit_generator.state = state["rng"]
        self.inner.set_state(state["attributes"]["inner"])

