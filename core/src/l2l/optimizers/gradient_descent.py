"""Gradient descent on finite-difference gradient estimates, with several descents at once."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, positive_int, to_unit

RULES = ("classic", "momentum", "rmsprop", "adam")
#: bold-driver factors of the learning rate after a step that lowered / raised the loss
GROW, SHRINK = 1.2, 0.5
#: a descent whose learning rate fell this far below its start has converged: it restarts
CONVERGED = 1e-9


class GradientDescent(VectorOptimizer):
    """Gradient descent with a gradient estimated by finite differences along random
    directions (as L2L's GradientDescentOptimizer), ``starts`` descents at once.

    Each descent evaluates its current point and ``probes`` points ``x + h d_k`` (``d_k``
    random orthonormal directions), fits the gradient to the loss differences by least
    squares, and steps with the chosen rule: classic (``x -= lr g``), momentum (Polyak 1964),
    RMSProp (Tieleman & Hinton 2012) or Adam (Kingma & Ba 2015). All descents' points go into
    one generation, so an optimizee with a batch path simulates them together (the poster's
    TVB outer loop: many descents, each evaluation a multi-instance simulation).

    The learning rate adapts by the "bold driver" rule (Battiti 1989): when the new point is
    better than the last, the rate grows by 1.2; when worse, the step is taken back and the rate
    halves. The difference step ``h`` is ``step`` times the rate's ratio to its start, so the
    estimate sharpens as the descent closes in. A descent restarts when its rate fell below
    1e-9 of its start (converged) or its best loss has not improved for ``patience``
    generations (stuck); a (re)start spends one generation on a uniform scout of as many
    points as the descent's probes and begins at the best of them (multi-start local search).
    The former fixed rate and difference step (Adam, 0.01) could not resolve an optimum more
    finely than the step: 0.092 of COCO's bbob targets at d = 20 in issue #17's measurement.

    Works in the unit cube of the space's bounds; ``x`` starts at uniformly drawn points.
    Failed evaluations are left out of the gradient fit; a failed current point counts as a
    worse one.

    Hyper-parameters (defaults): ``starts`` independent descents (1); ``population`` (None:
    ``starts`` x (probes + 1)); ``probes`` per descent (None: the dimension, or what
    ``population`` leaves, at least 1); ``rule`` ("adam"); ``learning_rate`` (0.05);
    ``adapt`` the rate by the bold driver (True); ``step`` of the differences as a fraction of
    each range (0.01); ``momentum`` (0.9); ``decay`` of RMSProp's average (0.9); ``beta1``
    (0.9) and ``beta2`` (0.999) of Adam; ``epsilon`` (1e-8); ``patience`` (30); ``bounding`` ("clip");
    ``penalty`` (None); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("x", "x_loss", "lr", "velocity", "second",
                                                   "steps", "back", "restarts", "best",
                                                   "stale", "scouting")

    def __init__(self, starts: int = 1, population: int | None = None,
                 probes: int | None = None, rule: str = "adam", learning_rate: float = 0.05,
                 adapt: bool = True, step: float = 0.01, momentum: float = 0.9,
                 decay: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, patience: int = 30, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.starts = starts
        self.population = population
        self.probes = probes
        self.rule = rule
        self.learning_rate = learning_rate
        self.adapt = adapt
        self.step = step
        self.momentum = momentum
        self.decay = decay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.patience = patience
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        choice("rule", self.rule, RULES)
        k = positive_int("starts", self.starts)
        if self.population is not None and positive_int("population", self.population, 2) < 2 * k:
            raise ConfigError(f"population ({self.population}) must be at least 2 x starts "
                              f"({2 * k}): each descent needs its point and one probe")
        if self.probes is not None:
            positive_int("probes", self.probes)
        positive_int("patience", self.patience)
        if float(self.step) <= 0:
            raise ConfigError(f"step must be positive, got {self.step}")
        if float(self.learning_rate) <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        d = self.space.dim
        self.x = self.rng.uniform(size=(k, d))
        self.x_loss = np.full(k, np.inf)
        self.lr = np.full(k, float(self.learning_rate))
        self.velocity = np.zeros((k, d))
        self.second = np.zeros((k, d))
        self.steps = np.zeros(k, dtype=int)
        self.back = np.zeros((k, d))      # the last step of each descent, to take it back
        self.restarts = 0
        self.best = np.full(k, np.inf)    # each descent's best loss since its (re)start
        self.stale = np.zeros(k, dtype=int)
        self.scouting = np.ones(k, dtype=bool)  # the descent's next points are a uniform scout

    def n_probes(self) -> int:
        k = int(self.starts)
        if self.population is not None:
            return max(1, int(self.population) // k - 1)
        return int(self.probes) if self.probes is not None else max(1, self.space.dim)

    def _sizes(self) -> list[int]:
        """Points per descent (its centre and its probes); with ``population``, the remainder
        goes to the first descents so the generation has exactly ``population`` points."""
        k, p = int(self.starts), self.n_probes()
        sizes = [p + 1] * k
        if self.population is not None:
            for i in range(int(self.population) - k * (p + 1)):
                sizes[i % k] += 1
        return sizes

    def _h(self) -> np.ndarray:
        return float(self.step) * np.asarray(self.lr) / float(self.learning_rate)

    def ask_vectors(self) -> np.ndarray:
        d = self.space.dim
        points = []
        for i, n in enumerate(self._sizes()):
            if self.scouting[i]:
                points.append(self.rng.uniform(size=(n, d)))
                continue
            raw = self.rng.standard_normal((d, n - 1))
            q = np.linalg.qr(raw)[0].T if n - 1 <= d else raw.T
            norms = np.linalg.norm(q, axis=1, keepdims=True)
            q = q / np.where(norms > 0, norms, 1.0)
            points.append(np.vstack([self.x[i], self.x[i] + self._h()[i] * q]))
        return from_unit(self.space, np.vstack(points))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        ok = np.array([e.ok for e in evaluations])
        u = to_unit(self.space, vectors)
        first = 0
        for i, n in enumerate(self._sizes()):
            rows = slice(first, first + n)
            first += n
            self._descend(i, u[rows], losses[rows], ok[rows])

    def _descend(self, i: int, u: np.ndarray, losses: np.ndarray, ok: np.ndarray) -> None:
        if self.scouting[i]:
            # a (re)start: begin the descent at the best of the uniform scout
            self.scouting[i] = False
            if ok.any():
                best = int(np.argmin(np.where(ok, losses, np.inf)))
                self.x[i], self.best[i] = u[best], float(losses[best])
            return
        centre_loss = float(losses[0]) if ok[0] else np.inf
        lr0 = float(self.learning_rate)
        good_losses = losses[ok]
        if good_losses.size and float(good_losses.min()) < float(self.best[i]) - 1e-12 * max(
                1.0, abs(float(good_losses.min()))):
            self.best[i], self.stale[i] = float(good_losses.min()), 0
        else:
            self.stale[i] = int(self.stale[i]) + 1
        if int(self.stale[i]) >= int(self.patience):
            self._restart(i, lr0)
            return
        if self.adapt and np.isfinite(self.x_loss[i]) and centre_loss > self.x_loss[i]:
            # the last step made things worse: take it back, halve the rate
            self.x[i] = self.x[i] + self.back[i]
            self.back[i] = 0.0
            self.lr[i] = float(self.lr[i]) * SHRINK
            self._restart_if_converged(i, lr0)
            return
        if self.adapt and np.isfinite(self.x_loss[i]):
            self.lr[i] = min(float(self.lr[i]) * GROW, 1.0)
        good = ok[1:]
        if not ok[0] or not good.any():
            return
        self.x_loss[i] = centre_loss
        deltas = u[1:][good] - u[0]
        gradient = np.linalg.lstsq(deltas, losses[1:][good] - losses[0], rcond=None)[0]
        new = np.clip(u[0] - self._update(i, gradient), 0.0, 1.0)
        self.back[i] = u[0] - new
        self.x[i] = new

    def _restart_if_converged(self, i: int, lr0: float) -> None:
        if float(self.lr[i]) < CONVERGED * lr0:
            self._restart(i, lr0)

    def _restart(self, i: int, lr0: float) -> None:
        """Start descent ``i`` afresh at a uniformly drawn point."""
        self.x[i] = self.rng.uniform(size=self.space.dim)
        self.x_loss[i] = np.inf
        self.lr[i] = lr0
        self.velocity[i] = 0.0
        self.second[i] = 0.0
        self.steps[i] = 0
        self.back[i] = 0.0
        self.best[i], self.stale[i] = np.inf, 0
        self.scouting[i] = True
        self.restarts = int(self.restarts) + 1

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:
        lr = float(self.lr[i])
        if self.rule == "classic":
            return lr * g
        if self.rule == "momentum":
            self.velocity[i] = float(self.momentum) * self.velocity[i] + lr * g
            return self.velocity[i]
        if self.rule == "rmsprop":
            rho = float(self.decay)
            self.second[i] = rho * self.second[i] + (1 - rho) * g**2
            return lr * g / (np.sqrt(self.second[i]) + float(self.epsilon))
        b1, b2 = float(self.beta1), float(self.beta2)
        self.steps[i] = int(self.steps[i]) + 1
        self.velocity[i] = b1 * self.velocity[i] + (1 - b1) * g
        self.second[i] = b2 * self.second[i] + (1 - b2) * g**2
        m_hat = self.velocity[i] / (1 - b1 ** int(self.steps[i]))
        v_hat = self.second[i] / (1 - b2 ** int(self.steps[i]))
        return lr * m_hat / (np.sqrt(v_hat) + float(self.epsilon))
