"""The optimizee protocol: a model with a parameter space and a fitness.

Subclass :class:`Optimizee`, store keyword arguments in ``__init__`` (and do nothing else
there: the object is shipped to workers before :meth:`setup`), and implement :meth:`space` and
:meth:`evaluate`. Override :meth:`evaluate_batch` when the simulator can run many parameter sets
at once; the loop then hands whole chunks of a generation to it. Offer held-out scores
(validation/test data) with :meth:`validate`, or several with :meth:`held_out` and
:meth:`score_held_out`; ``l2l validate`` reports them for a run's best candidates.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from .errors import ConfigError
from .evaluation import Evaluation, Objectives
from .params import KeywordArgs
from .space import Params, Space


class Optimizee(KeywordArgs):
    """Base class of optimizees. Only :meth:`space` and :meth:`evaluate` are required.

    ``preload`` names modules that worker processes should import before they fork (slow
    simulator imports then cost once per executor, not once per worker). :meth:`objectives`
    is called for every chunk of tasks, so it must be cheap.

    ``min_batch``: the smallest number of evaluations for which :meth:`evaluate_batch` pays
    off; executors send a worker whole chunks (about one per worker for a batch optimizee),
    and a chunk smaller than this is evaluated one parameter set at a time with
    :meth:`evaluate`. Measure it (a vectorised numpy model often only gains above a few dozen
    instances) and set it as a class attribute, or take it as a keyword argument.
    """

    preload: tuple[str, ...] = ()
    min_batch: int = 2

    def space(self) -> Space:
        """The parameter space to search."""
        raise NotImplementedError

    def objectives(self) -> Objectives:
        """Names and directions of the fitness values; default: one value, minimised."""
        return Objectives()

    def targets(self) -> np.ndarray | None:
        """Target observations for data-driven optimizers (ensemble Kalman filter); the
        observation array of each :class:`Evaluation` is compared against this."""
        return None

    def setup(self) -> None:
        """Called once per worker before its first evaluation: import the simulator, load data."""

    def teardown(self) -> None:
        """Called when a worker shuts down cleanly."""

    def evaluate(self, params: Params, seed: int) -> Evaluation | float | Sequence[float]:
        """Evaluate one parameter set. ``seed`` drives any randomness of this evaluation.

        Return an :class:`Evaluation`, or just the fitness (a number or a tuple). Raising an
        exception marks the evaluation as failed with the exception as its reason.
        """
        raise NotImplementedError

    def evaluate_batch(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Any]:
        """Evaluate many parameter sets at once (one simulation of many instances).

        The default loops over :meth:`evaluate`. Return one result per parameter set, in order;
        an entry may be an :class:`Evaluation` with ``status="failed"``.
        """
        return [self.evaluate(p, s) for p, s in zip(params, seeds)]

    def validate(self, params: Params, seed: int) -> Evaluation | float | Sequence[float] | None:
        """Score a parameter set on held-out data (e.g. a validation set), with the same
        objectives as :meth:`evaluate`; None (the default) when there is no such data.
        The meta-learning optimizee uses it to score what an inner run found."""
        return None

    def held_out(self) -> dict[str, str]:
        """The held-out scores this optimizee offers: name → what it measures, in one line
        (``{"validation": "accuracy on 300 validation images", "test": ...}``).

        ``l2l validate`` computes each of them with :meth:`score_held_out` for a run's best
        candidates and stores them beside :attr:`fresh_seeds`. The default offers
        ``"validation"`` (:meth:`validate`) when a subclass overrides :meth:`validate`, and
        nothing otherwise. Never optimize on a held-out score: it is for reporting."""
        if type(self).validate is Optimizee.validate:
            return {}
        return {"validation": "validate(): the score on the optimizee's held-out data"}

    def score_held_out(self, name: str, params: Params, seed: int
                       ) -> Evaluation | float | Sequence[float] | None:
        """The held-out score ``name`` (a key of :meth:`held_out`) of ``params``, with the
        same objectives as :meth:`evaluate`; ``seed`` drives its randomness. The default
        answers ``"validation"`` with :meth:`validate`."""
        if name == "validation":
            return self.validate(params, seed)
        raise ConfigError(f"{type(self).__name__} has no held-out score {name!r} "
                          f"(it offers: {', '.join(self.held_out()) or 'none'})")

    def baselines(self) -> dict[str, Params]:
        """Named reference parameter sets that an optimized result should beat (a hand
        design, a tool's defaults); ``l2l validate`` scores them beside the run's best, with
        the same seeds. Default: none."""
        return {}

    #: What re-scoring a parameter set on seeds the run never used measures; ``l2l validate``
    #: always reports it (the evaluation's own objectives, mean ± standard error over the
    #: fresh seeds). Optimizees say what their seeds vary, e.g. "new ant headings and noise".
    fresh_seeds: ClassVar[str] = "the training fitness on seeds the run never used"

    @classmethod
    def has_batch(cls) -> bool:
        """Whether this class offers a real batch path (overrides :meth:`evaluate_batch`)."""
        return cls.evaluate_batch is not Optimizee.evaluate_batch
