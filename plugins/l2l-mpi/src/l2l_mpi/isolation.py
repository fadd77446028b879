"""The optimizee as the evaluation child of an MPI worker sees it.

:class:`Isolated` wraps the user's optimizee for the local process pool that each MPI worker
runs. When it is unpickled in the evaluation child, the launcher's environment is removed
*before* the user's optimizee (and so its simulator) is imported: simulators built without MPI
(NEST's PyPI wheel) then run normally under ``mpiexec`` or ``srun``.
"""

from __future__ import annotations

import pickle
from typing import Any, Sequence

from l2l import Evaluation, Objectives, Optimizee, Space

from .environment import clean_launcher_environment


def _restore(payload: bytes) -> Isolated:
    clean_launcher_environment()
    return Isolated(pickle.loads(payload))


class Isolated(Optimizee):
    """Delegates every call to ``inner``; pickles so that unpickling cleans the environment."""

    def __init__(self, inner: Optimizee):
        self.inner = inner

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (pickle.dumps(self.inner, protocol=pickle.HIGHEST_PROTOCOL),)

    def has_batch(self) -> bool:  # type: ignore[override] - the wrapped class decides
        return self.inner.has_batch()

    @property
    def min_batch(self) -> int:  # type: ignore[override] - the wrapped optimizee decides
        return getattr(self.inner, "min_batch", 2)

    def space(self) -> Space:
        return self.inner.space()

    def objectives(self) -> Objectives:
        return self.inner.objectives()

    def targets(self) -> Any:
        return self.inner.targets()

    def setup(self) -> None:
        self.inner.setup()

    def teardown(self) -> None:
        self.inner.teardown()

    def evaluate(self, params: Any, seed: int) -> Any:
        return self.inner.evaluate(params, seed)

    def evaluate_batch(self, params: Sequence[Any], seeds: Sequence[int]) -> list[Any]:
        return self.inner.evaluate_batch(params, seeds)

    def validate(self, params: Any, seed: int) -> Evaluation | float | Sequence[float] | None:
        return self.inner.validate(params, seed)
