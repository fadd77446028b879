"""The ants' spiking controller: layout of its synapses and its fixed neuron parameters.

Neurons, in index order: ``N_INPUTS`` sensory inputs, ``hidden`` hidden LIF neurons, ``N_MOTORS``
motor LIF neurons. Synapses: every input to every hidden neuron, every hidden neuron to every
hidden neuron (self-connections included), every hidden neuron to every motor neuron. With the
reference sizes (11 inputs, 10 hidden, 4 motors) that is 110 + 100 + 40 = 250 synapses.

The flat ``weights``/``delays`` vectors list the synapses row-major by presynaptic neuron
(inputs, then hidden), each row's targets in order (hidden, then motors):
``(input 0 → hidden 0), …, (input 10 → hidden 9), (hidden 0 → hidden 0), …,
(hidden 0 → hidden 9), (hidden 0 → motor 0), …, (hidden 9 → motor 3)``. The NetLogo model
builds the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l2l import ConfigError

INPUTS = ("pheromone-left", "pheromone-right", "food-left", "food-right", "nest-left",
          "nest-right", "carrying", "searching", "wall-ahead", "noise", "bias")
MOTORS = ("turn-left", "turn-right", "forward", "pheromone")
N_INPUTS, N_MOTORS = len(INPUTS), len(MOTORS)


def n_synapses(hidden: int) -> int:
    """Number of synapses for ``hidden`` hidden neurons (250 for 10)."""
    return N_INPUTS * hidden + hidden * hidden + hidden * N_MOTORS


def synapse_mask(hidden: int) -> np.ndarray:
    """Boolean (pre, post) mask of existing synapses; pre = inputs + hidden, post = hidden +
    motors. ``mask[mask]`` enumerates synapses in the documented flat order."""
    n_pre, n_post = N_INPUTS + hidden, hidden + N_MOTORS
    mask = np.zeros((n_pre, n_post), dtype=bool)
    mask[:N_INPUTS, :hidden] = True          # input  -> hidden
    mask[N_INPUTS:, :hidden] = True          # hidden -> hidden
    mask[N_INPUTS:, hidden:] = True          # hidden -> motor
    return mask


def synapse_endpoints(hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) indices of the synapses in flat order (pre over inputs+hidden, post over
    hidden+motors)."""
    pre, post = np.nonzero(synapse_mask(hidden))
    return pre, post


@dataclass(frozen=True)
class Neurons:
    """Fixed LIF parameters, in network steps: potentials decay by ``decay`` per step, a neuron
    fires when its potential reaches ``threshold`` and is reset to 0. Input neurons are
    leak-free accumulators: each step they add their sensor value (in [0, 1]) and fire when
    the sum reaches 1 (then subtract 1), so a sensor value is a spike rate per step."""

    threshold: float = 10.0
    decay: float = 0.9
    max_delay: int = 7


def matrices(weights: np.ndarray, delays: np.ndarray, hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense (pre, post) weight and integer delay matrices from flat synapse vectors; absent
    synapses get weight 0 and delay 1."""
    mask = synapse_mask(hidden)
    w = np.zeros(mask.shape)
    d = np.ones(mask.shape, dtype=np.int64)
    w[mask] = np.asarray(weights, dtype=float).reshape(-1)
    d[mask] = np.asarray(delays).reshape(-1).astype(np.int64)
    return w, d


def hand_wired(hidden: int = 10) -> dict[str, np.ndarray]:
    """A hand-designed forager (a baseline, and a check that the rules allow foraging).

    Searching ants turn towards food scent and pheromone, carrying ants towards the nest
    scent (each gated off by the other state's input), every ant walks forward, turns away
    from walls, wiggles with the noise input, and carrying ants lay pheromone.
    """
    if hidden < 9:
        raise ConfigError(f"the hand-wired controller needs at least 9 hidden neurons, got {hidden}")
    shape = (N_INPUTS + hidden, hidden + N_MOTORS)
    w, d = np.zeros(shape), np.ones(shape, dtype=np.int64)
    i = {name: k for k, name in enumerate(INPUTS)}
    h = lambda k: N_INPUTS + k  # noqa: E731 - index of hidden neuron k as a presynaptic neuron
    m = {name: hidden + k for k, name in enumerate(MOTORS)}
    # hidden 0/1: search left/right (food scent, pheromone), off while carrying
    for side, k in (("left", 0), ("right", 1)):
        w[i[f"food-{side}"], k] = 15.0
        w[i[f"pheromone-{side}"], k] = 12.0
        w[i["carrying"], k] = -20.0
    # hidden 2/3: home left/right (nest scent), off while searching
    for side, k in (("left", 2), ("right", 3)):
        w[i[f"nest-{side}"], k] = 15.0
        w[i["searching"], k] = -20.0
    w[h(0), m["turn-left"]] = w[h(2), m["turn-left"]] = 15.0
    w[h(1), m["turn-right"]] = w[h(3), m["turn-right"]] = 15.0
    w[i["bias"], 4] = 15.0                     # hidden 4: walk
    w[h(4), m["forward"]] = 15.0
    w[i["carrying"], 5] = 15.0                 # hidden 5: lay pheromone while carrying
    w[h(5), m["pheromone"]] = 15.0
    w[i["wall-ahead"], 6] = 15.0               # hidden 6: turn away from walls
    w[h(6), m["turn-left"]] = 20.0
    w[i["noise"], 7] = 12.0                    # hidden 7/8: random wiggle
    w[h(7), m["turn-left"]] = 15.0
    w[i["bias"], 8] = 5.5
    w[h(8), m["turn-right"]] = 15.0
    mask = synapse_mask(hidden)
    return {"weights": w[mask], "delays": d[mask]}
