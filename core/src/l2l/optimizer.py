"""The optimizer protocol: ask / tell with a serialisable state.

Life cycle: ``opt = Cls(**hyperparameters)``; ``opt.start(problem)``; then repeatedly
``candidates = opt.ask()`` and ``opt.tell(candidates, evaluations)``. ``opt.state()`` returns
its whole state as JSON-able data with numpy arrays (no pickle); ``opt.set_state(state)`` on a
freshly started optimizer of the same class and hyper-parameters continues bit-identically.

Asynchronous mode (``[experiment] mode = "async"``): an optimizer whose class sets
``asynchronous = True`` implements ``ask_one() -> (ticket, params)`` and
``tell_one(ticket, params, evaluation)``: the loop asks one candidate whenever a worker is
free and tells each evaluation as it completes, in completion order (not ask order). The
ticket is an int of the optimizer's choosing that ties a tell to its ask (a chain number, a
grid index, ...). Everything it needs to match tells to asks lives in its ``state()``: the
loop checkpoints that state between completions and, on resume, re-submits the candidates
that were in flight with their tickets.

Most optimizers work on vectors: subclass :class:`VectorOptimizer` and implement
:meth:`VectorOptimizer.ask_vectors` and :meth:`VectorOptimizer.tell_losses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from .errors import ConfigError
from .evaluation import Evaluation, Objectives, losses
from .params import KeywordArgs
from .space import Params, Space


@dataclass(frozen=True)
class Problem:
    """What an optimizer is told at start: the space, the objectives (with the user's
    weights), the optimizee's targets (or None) and the seed."""

    space: Space
    objectives: Objectives
    seed: int
    targets: np.ndarray | None = None


class Optimizer(KeywordArgs):
    """Base class of optimizers.

    Subclasses list the attributes that make up their mutable state in ``state_attributes``;
    :meth:`state` serialises those and the random generator. ``min_population``: the smallest
    ``population`` the algorithm works with (checked by :meth:`start`, which raises
    ConfigError below it; ``l2l.testing.check_optimizer`` runs the smallest one).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ()
    min_population: ClassVar[int] = 1
    #: True if the optimizer implements :meth:`ask_one` / :meth:`tell_one` (async mode)
    asynchronous: ClassVar[bool] = False
    problem: Problem
    rng: np.random.Generator

    def start(self, problem: Problem) -> None:
        """Prepare for a fresh run on ``problem``. Subclasses call ``super().start(problem)``
        first: it sets :attr:`problem` and :attr:`rng`, the generator to draw every random
        number from (seeded from the run's seed; its state is part of every checkpoint)."""
        population = getattr(self, "population", None)
        if isinstance(population, int) and population < self.min_population:
            raise ConfigError(f"{type(self).__name__}: population must be at least "
                              f"{self.min_population}, got {population}")
        self.problem = problem
        self.rng = np.random.default_rng(problem.seed)

    @property
    def space(self) -> Space:
        return self.problem.space

    def ask(self) -> list[Params]:
        """The next candidates to evaluate (one generation)."""
        raise NotImplementedError

    def tell(self, candidates: Sequence[Params], evaluations: Sequence[Evaluation]) -> None:
        """Receive the evaluations of the candidates from the last :meth:`ask`, in order."""
        raise NotImplementedError

    def ask_one(self) -> tuple[int, Params]:
        """Async mode: one candidate and its ticket (an int passed back to :meth:`tell_one`)."""
        raise NotImplementedError

    def tell_one(self, ticket: int, params: Params, evaluation: Evaluation) -> None:
        """Async mode: the evaluation of the candidate asked with ``ticket``, in completion
        order; other candidates may be in flight."""
        raise NotImplementedError

    @property
    def done(self) -> bool:
        """True when the optimizer has nothing left to ask (e.g. a finished grid)."""
        return False

    def state(self) -> dict[str, Any]:
        """The whole mutable state: JSON-able values and numpy arrays."""
        data = {name: getattr(self, name) for name in self.state_attributes}
        return {"rng": self.rng.bit_generator.state, "attributes": data}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`state` (after :meth:`start` with the same problem)."""
        self.rng.bit_generator.state = state["rng"]
        for name, value in state["attributes"].items():
            setattr(self, name, value)


class VectorOptimizer(Optimizer):
    """An optimizer that proposes real vectors; bounding and (un)flattening are done here.

    ``bounding`` is ``"clip"`` or ``"reflect"``; ``penalty`` is the loss given to failed
    evaluations (None: worse than the worst success of the generation); ``weights`` scalarise
    several objectives (None: the optimizee's weights, else all 1).
    """

    bounding: str = "clip"
    penalty: float | None = None
    weights: Sequence[float] | None = None

    def start(self, problem: Problem) -> None:
        if self.weights is not None:
            problem = Problem(problem.space, problem.objectives.with_weights(self.weights),
                              problem.seed, problem.targets)
        super().start(problem)

    def ask_vectors(self) -> np.ndarray:
        """Candidate vectors, shape ``(n, dim)`` in the order of ``self.space`` (flattened;
        ``self.space.lower`` / ``.upper`` are the bounds); they are bounded afterwards with
        ``bounding``, and ints and categorical indices are rounded when decoded."""
        raise NotImplementedError

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        """Learn from the losses (lower is better). ``vectors`` are the candidates as
        evaluated (bounded, ints rounded), not the raw ``ask_vectors()`` output. A failed
        evaluation's loss is ``penalty`` (None: worse than the worst success of this
        generation); ``evaluations[i].ok`` tells failures apart."""
        raise NotImplementedError

    def ask_vector(self) -> tuple[int, np.ndarray]:
        """Async mode: ``(ticket, vector)`` of one candidate (bounded afterwards, as in
        :meth:`ask_vectors`)."""
        raise NotImplementedError

    def tell_loss(self, ticket: int, vector: np.ndarray, loss: float, evaluation: Evaluation) -> None:
        """Async mode: the loss of the candidate asked with ``ticket`` (a failure's loss is
        :meth:`failure_loss`)."""
        raise NotImplementedError

    def failure_loss(self, known: np.ndarray) -> float:
        """The loss of a failed evaluation in async mode: ``penalty``, else worse than the
        worst of the finite losses ``known`` to the optimizer (1e12 when there are none)."""
        if self.penalty is not None:
            return float(self.penalty)
        known = np.asarray(known, dtype=float)
        finite = known[np.isfinite(known) & (known < 1e11)]
        return float(finite.max() + abs(finite.max()) + 1.0) if finite.size else 1e12

    def known_losses(self) -> np.ndarray:
        """Losses the optimizer holds (for :meth:`failure_loss`); none by default."""
        return np.zeros(0)

    def ask_one(self) -> tuple[int, Params]:
        ticket, vector = self.ask_vector()
        bounded = self.space.bound(np.atleast_2d(vector), self.bounding)[0]
        return int(ticket), self.space.from_vector(bounded)

    def tell_one(self, ticket: int, params: Params, evaluation: Evaluation) -> None:
        loss = (self.problem.objectives.loss(evaluation.fitness) if evaluation.ok
                else self.failure_loss(self.known_losses()))
        self.tell_loss(int(ticket), self.space.to_vector(params), float(loss), evaluation)

    def ask(self) -> list[Params]:
        vectors = self.space.bound(np.atleast_2d(self.ask_vectors()), self.bounding)
        return [self.space.from_vector(v) for v in vectors]

    def tell(self, candidates: Sequence[Params], evaluations: Sequence[Evaluation]) -> None:
        vectors = np.array([self.space.to_vector(c) for c in candidates]).reshape(
            len(candidates), self.space.dim)
        self.tell_losses(vectors, losses(evaluations, self.problem.objectives, self.penalty),
                         evaluations)
