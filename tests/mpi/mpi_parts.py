"""Optimizees for the mpi executor's tests (importable by worker ranks and their children)."""

from __future__ import annotations

import os

from l2l import Float, Optimizee, Space


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


def launcher_variables() -> list[str]:
    """Names of MPI launcher variables in this process's environment (called on a rank)."""
    from l2l_mpi.environment import LAUNCHER_PREFIXES

    return sorted(k for k in os.environ if k.startswith(LAUNCHER_PREFIXES))
