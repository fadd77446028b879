"""Run many independent cable cells in one Arbor simulation and return their voltage traces.

One recipe holds every cell (one per parameter set and protocol); cells are grouped so that
Arbor integrates a group's cells together (vectorised) and spreads groups over its threads:
one group per thread, each of 8 to 32 cells where the batch allows.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from l2l import ConfigError

#: most cells Arbor integrates together in one CPU cell group (measured best near 32)
MAX_GROUP = 32
#: fewest cells worth a cell group (and a thread) of their own
MIN_GROUP = 8


class Contexts:
    """Arbor execution contexts with up to ``threads`` threads (and the GPU if asked), made on
    first use: a batch runs on as many threads as it has cell groups of at least
    :data:`MIN_GROUP` cells, since idle threads only cost time."""

    def __init__(self, threads: int, gpu: bool):
        import arbor as A

        if int(threads) < 1:
            raise ConfigError(f"threads must be at least 1, got {threads}")
        if gpu and not A.config().get("gpu"):
            raise ConfigError("gpu = true, but the installed Arbor was built without GPU support")
        self.threads, self.gpu = int(threads), bool(gpu)
        self._made: dict[int, Any] = {}

    def for_cells(self, n: int) -> Any:
        import arbor as A

        threads = self.threads if self.gpu else max(1, min(self.threads, n // MIN_GROUP))
        if threads not in self._made:
            self._made[threads] = A.context(threads=threads, gpu_id=0) if self.gpu \
                else A.context(threads=threads)
        return self._made[threads]


def _recipe_class() -> type:
    import arbor as A

    class CellsRecipe(A.recipe):
        """Unconnected cable cells, each with a voltage probe per recording site."""

        def __init__(self, cells: Sequence[Any], sites: Sequence[str], props: Any):
            A.recipe.__init__(self)
            self.cells, self.sites, self.props = list(cells), list(sites), props

        def num_cells(self) -> int:
            return len(self.cells)

        def cell_kind(self, gid: int) -> Any:
            return A.cell_kind.cable

        def cell_description(self, gid: int) -> Any:
            return self.cells[gid]

        def probes(self, gid: int) -> list[Any]:
            return [A.cable_probe_membrane_voltage(site, f"v{i}") for i, site in enumerate(self.sites)]

        def global_properties(self, kind: Any) -> Any:
            return self.props

    return CellsRecipe


_RECIPE: type | None = None


def simulate(cells: Sequence[Any], sites: Sequence[str], props: Any, contexts: Contexts, *,
             tfinal: float, dt: float, sample_dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``cells`` together for ``tfinal`` ms; voltages sampled every ``sample_dt`` ms
    at each locset of ``sites`` (its first location). Returns ``(time, v)`` with ``v`` of
    shape ``(n_cells, n_sites, n_samples)``."""
    import arbor as A
    from arbor import units as U

    global _RECIPE
    if _RECIPE is None:
        _RECIPE = _recipe_class()
    recipe = _RECIPE(cells, sites, props)
    n = len(cells)
    context = contexts.for_cells(n)
    groups = max(min(int(context.threads), n // MIN_GROUP), -(-n // MAX_GROUP), 1)
    hint = A.partition_hint(cpu_group_size=max(1, -(-n // groups)), prefer_gpu=context.has_gpu)
    decomposition = A.partition_load_balance(recipe, context, {A.cell_kind.cable: hint})
    sim = A.simulation(recipe, context, decomposition)
    schedule = A.regular_schedule(0 * U.ms, sample_dt * U.ms, tfinal * U.ms)
    handles = [[sim.sample((gid, f"v{i}"), schedule) for i in range(len(sites))] for gid in range(n)]
    sim.run(tfinal * U.ms, dt * U.ms)
    data = [[sim.samples(h)[0][0] for h in row] for row in handles]
    n_t = min(len(d) for row in data for d in row)
    v = np.array([[d[:n_t, 1] for d in row] for row in data])
    return np.array(data[0][0][:n_t, 0]), v


def steps_of(protocols: Sequence[Mapping[str, Any]], default_location: str) -> list[tuple[str, Any]]:
    """Named current-clamp steps from protocol tables ``{amplitude, start, duration[, name,
    location]}`` (nA, ms)."""
    from .cell import Step

    out: list[tuple[str, Any]] = []
    for i, proto in enumerate(protocols):
        proto = dict(proto)
        name = str(proto.pop("name", f"step{i + 1}"))
        proto.pop("features", None)  # read by the optimizee
        try:
            step = Step(float(proto.pop("amplitude")), float(proto.pop("start")),
                        float(proto.pop("duration")), str(proto.pop("location", default_location)))
        except KeyError as missing:
            raise ConfigError(f"protocol {name!r}: missing {missing.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"protocol {name!r}: {exc}") from None
        if proto:
            raise ConfigError(f"protocol {name!r}: unknown key(s) {sorted(proto)} "
                              f"(accepted: name, amplitude, start, duration, location, features)")
        if step.start < 0 or step.duration < 0:
            raise ConfigError(f"protocol {name!r}: start and duration must be non-negative")
        out.append((name, step))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"protocol names must be unique, got {names}")
    return out
