"""Optimizees for the mpi executor's tests (importable by worker ranks and their children)."""

from __future__ import annotations

import os
import time

from l2l import Float, Optimizee, Space


class Trouble(Optimizee):
    """x in [0, 1]; crashes, hangs, raises or returns NaN in chosen intervals of x.

    ``marker_dir``: setup() appends a file per pid there (counts setups per process).
    """

    def __init__(self, crash_below: float = 0.0, hang_below: float = 0.0,
                 raise_below: float = 0.0, nan_below: float = 0.0, marker_dir: str = ""):
        self.crash_below = crash_below
        self.hang_below = hang_below
        self.raise_below = raise_below
        self.nan_below = nan_below
        self.marker_dir = marker_dir

    def space(self) -> Space:
        return Space([Float("x", 0.0, 1.0)])

    def setup(self) -> None:
        if self.marker_dir:
            with open(os.path.join(self.marker_dir, f"setup-{os.getpid()}"), "a") as f:
                f.write("setup\n")

    def evaluate(self, params, seed):
        x = float(params["x"])
        if x < self.crash_below:
            os._exit(7)
        if x < self.hang_below:
            time.sleep(60)
        if x < self.raise_below:
            raise ValueError(f"x={x:.3f} is too small")
        if x < self.nan_below:
            return float("nan")
        return (x - 0.7) ** 2


class TinyNest(Optimizee):
    """A Poisson generator driving one iaf_psc_alpha neuron; fitness: |rate - 20 Hz|."""

    def __init__(self, sim_ms: float = 200.0):
        self.sim_ms = sim_ms

    def space(self) -> Space:
        return Space([Float("weight", 5.0, 60.0)])

    def setup(self) -> None:
        import nest

        self.nest = nest
        nest.set_verbosity("M_ERROR")

    def evaluate(self, params, seed):
        nest = self.nest
        nest.ResetKernel()
        nest.rng_seed = seed % (2**31 - 1) + 1
        neuron = nest.Create("iaf_psc_alpha")
        noise = nest.Create("poisson_generator", params={"rate": 6000.0})
        rec = nest.Create("spike_recorder")
        nest.Connect(noise, neuron, syn_spec={"weight": float(params["weight"])})
        nest.Connect(neuron, rec)
        nest.Simulate(float(self.sim_ms))
        rate = rec.n_events / (self.sim_ms / 1000.0)
        return abs(rate - 20.0)


class BadSetup(Trouble):
    """Fails in setup()."""

    def setup(self) -> None:
        raise RuntimeError("no simulator here")


def launcher_variables() -> list[str]:
    """Names of MPI launcher variables in this process's environment (called on a rank)."""
    from l2l_mpi.environment import LAUNCHER_PREFIXES

    return sorted(k for k in os.environ if k.startswith(LAUNCHER_PREFIXES))
