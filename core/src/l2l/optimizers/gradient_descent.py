"""Gradient descent on finite-difference gradient estimates."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, positive_int, to_unit

RULES = ("classic", "momentum", "rmsprop", "adam")


class GradientDescent(VectorOptimizer):
    """Gradient descent with a gradient estimated by finite differences along random
    directions (as L2L's GradientDescentOptimizer): each generation evaluates the current
    point and ``population - 1`` points ``x + step * d_k`` (``d_k`` random unit directions),
    fits the gradient to the loss differences by least squares, then updates ``x`` with the
    chosen rule: classic (``x -= lr g``), momentum (Polyak 1964), RMSProp (Tieleman & Hinton
    2012) or Adam (Kingma & Ba 2015). Works in the unit cube of the space's bounds; ``x``
    starts at a uniformly drawn point. Failed evaluations are left out of the gradient fit;
    when the current point itself failed, ``x`` does not move.

    Hyper-parameters (defaults): ``population`` (None: dimension + 1, at least 2);
    ``rule`` ("adam"); ``learning_rate`` (0.01); ``step`` of the differences as a fraction of
    each range (0.01); ``momentum`` (0.9); ``decay`` of RMSProp's average (0.9); ``beta1``
    (0.9) and ``beta2`` (0.999) of Adam; ``epsilon`` (1e-8); ``bounding`` ("clip");
    ``penalty`` (None); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("x", "velocity", "second", "steps",
                                                   "directions")

    def __init__(self, population: int | None = None, rule: str = "adam",
                 learning_rate: float = 0.01, step: float = 0.01, momentum: float = 0.9,
                 decay: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, bounding: str = "clip", penalty: float | None = None,
                 weights: Sequence[float] | None = None):
        self.population = population
        self.rule = rule
        self.learning_rate = learning_rate
        self.step = step
        self.momentum = momentum
        self.decay = decay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        choice("rule", self.rule, RULES)
        if self.population is not None:
            positive_int("population", self.population, 2)
        if float(self.step) <= 0:
            raise ConfigError(f"step must be positive, got {self.step}")
        d = self.space.dim
        self.x = self.rng.uniform(size=d)
        self.velocity = np.zeros(d)
        self.second = np.zeros(d)
        self.steps = 0
        self.directions = np.zeros((0, d))

    def ask_vectors(self) -> np.ndarray:
        d = self.space.dim
        n = int(self.population) if self.population is not None else max(2, d + 1)
        raw = self.rng.standard_normal((n - 1, d))
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        self.directions = raw / np.where(norms > 0, norms, 1.0)
        points = np.vstack([self.x, self.x + float(self.step) * self.directions])
        return from_unit(self.space, points)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        ok = np.array([e.ok for e in evaluations])
        if not ok[0] or not ok[1:].any():
            return
        # the bounded points actually evaluated, relative to the centre
        u = to_unit(self.space, vectors)
        deltas = u[1:][ok[1:]] - u[0]
        gradient = np.linalg.lstsq(deltas, losses[1:][ok[1:]] - losses[0], rcond=None)[0]
        self.x = u[0] - self._update(gradient)
        self.x = np.clip(self.x, 0.0, 1.0)

    def _update(self, g: np.ndarray) -> np.ndarray:
        lr = float(self.learning_rate)
        if self.rule == "classic":
            return lr * g
        if self.rule == "momentum":
            self.velocity = float(self.momentum) * self.velocity + lr * g
            return self.velocity
        if self.rule == "rmsprop":
            rho = float(self.decay)
            self.second = rho * self.second + (1 - rho) * g**2
            return lr * g / (np.sqrt(self.second) + float(self.epsilon))
        b1, b2 = float(self.beta1), float(self.beta2)
        self.steps = int(self.steps) + 1
        self.velocity = b1 * self.velocity + (1 - b1) * g
        self.second = b2 * self.second + (1 - b2) * g**2
        m_hat = self.velocity / (1 - b1**self.steps)
        v_hat = self.second / (1 - b2**self.steps)
        return lr * m_hat / (np.sqrt(v_hat) + float(self.epsilon))
