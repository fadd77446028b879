"""The ants' spiking networks, vectorised over colonies (each its own weights and delays) and
over the ants of a colony (each its own state)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .network import N_INPUTS, Neurons, matrices


class Brains:
    """Leaky integrate-and-fire networks with synaptic delays, one per ant of each colony.

    Spikes of step ``s`` are kept in history slot ``s % slots`` (``slots = max_delay + 1``). At
    a step of phase ``p = step % slots``, slot ``k`` holds the spikes emitted ``(p - k) % slots``
    steps ago, so ``by_phase[p]`` weighs each slot by the synapses with that delay (slot ``p``
    itself by none) and the input current is one matrix product with the flat history.
    """

    def __init__(self, weights: Sequence[np.ndarray], delays: Sequence[np.ndarray], hidden: int,
                 n_ants: int, neurons: Neurons):
        mats = [matrices(w, d, hidden) for w, d in zip(weights, delays)]
        w = np.stack([m[0] for m in mats])           # (colonies, pre, post)
        d = np.stack([m[1] for m in mats])
        nb, n_pre, n_post = w.shape
        self.slots = neurons.max_delay + 1
        self.by_phase = np.stack([
            np.concatenate([w * (d == (p - k) % self.slots) for k in range(self.slots)], axis=1)
            for p in range(self.slots)])               # (slots, colonies, slots * pre, post)
        self.hidden, self.neurons = hidden, neurons
        self.acc = np.zeros((nb, n_ants, N_INPUTS))
        self.v = np.zeros((nb, n_ants, n_post))
        self.hist = np.zeros((nb, n_ants, self.slots, n_pre))
        self.flat_hist = self.hist.reshape(nb, n_ants, self.slots * n_pre)
        self.spikes = np.zeros(nb, dtype=np.int64)  # hidden + motor spikes, per colony
        self.step = 0

    def think(self, sense: np.ndarray, steps: int) -> np.ndarray:
        """Run ``steps`` network steps driven by ``sense`` (colonies, ants, inputs); return the
        motor neurons' spike counts (colonies, ants, motors)."""
        h, n = self.hidden, self.neurons
        motor = np.zeros(self.v.shape[:-1] + (self.v.shape[-1] - h,))
        for _ in range(steps):
            self.acc += sense
            s_in = self.acc >= 1.0
            self.acc -= s_in
            phase = self.step % self.slots
            v = self.v * n.decay + self.flat_hist @ self.by_phase[phase]
            fired = v >= n.threshold
            v[fired] = 0.0
            self.v = v
            self.hist[:, :, phase, :N_INPUTS] = s_in
            self.hist[:, :, phase, N_INPUTS:] = fired[..., :h]
            motor += fired[..., h:]
            self.spikes += fired.sum(axis=(1, 2))
            self.step += 1
        return motor
