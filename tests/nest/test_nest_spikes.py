"""Counting spikes per neuron and window, and first-spike latencies."""

from __future__ import annotations

import numpy as np

from l2l_nest.spikes import first_spikes, spike_counts

EVENTS = {"senders": np.array([5, 6, 5, 7, 5, 9]), "times": np.array([1.0, 2.5, 3.0, 4.0, 12.0, 2.0])}
EDGES = [0.0, 5.0, 10.0, 15.0]


def test_counts_per_window_and_neuron_ignore_other_senders():
    counts = spike_counts(EVENTS, 5, 3, EDGES)  # neurons 5, 6, 7; 9 is someone else
    assert counts.tolist() == [[2, 1, 1], [0, 0, 0], [1, 0, 0]]


def test_first_spike_relative_to_window_start():
    first = first_spikes(EVENTS, 5, 3, EDGES)
    assert first[0].tolist() == [1.0, 2.5, 4.0]
    assert np.isinf(first[1]).all()
    assert first[2, 0] == 2.0
