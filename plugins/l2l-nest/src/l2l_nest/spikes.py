"""Spike counts and first-spike latencies per neuron and time window, from a spike recorder."""

from __future__ import annotations

from typing import Any

import numpy as np


def _binned(events: dict[str, Any], first_id: int, n_neurons: int,
            edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin index, neuron index and time of the spikes of neurons ``first_id ..
    first_id + n_neurons - 1`` that fall into ``[edges[0], edges[-1])``."""
    senders = np.asarray(events["senders"], dtype=np.int64) - int(first_id)
    times = np.asarray(events["times"], dtype=float)
    bins = np.searchsorted(edges, times, side="right") - 1
    keep = (senders >= 0) & (senders < n_neurons) & (bins >= 0) & (bins < edges.size - 1)
    return bins[keep], senders[keep], times[keep]


def spike_counts(events: dict[str, Any], first_id: int, n_neurons: int,
                 edges: Any) -> np.ndarray:
    """Spike counts of neurons ``first_id .. first_id + n_neurons - 1`` in the time bins
    delimited by ``edges``; shape ``(n_bins, n_neurons)``."""
    edges = np.asarray(edges, dtype=float)
    bins, neurons, _ = _binned(events, first_id, n_neurons, edges)
    counts = np.zeros((edges.size - 1, n_neurons))
    np.add.at(counts, (bins, neurons), 1.0)
    return counts


def first_spikes(events: dict[str, Any], first_id: int, n_neurons: int,
                 edges: Any) -> np.ndarray:
    """Time of each neuron's first spike in each bin relative to the bin's start (inf when it
    did not fire); shape ``(n_bins, n_neurons)``."""
    edges = np.asarray(edges, dtype=float)
    bins, neurons, times = _binned(events, first_id, n_neurons, edges)
    first = np.full((edges.size - 1, n_neurons), np.inf)
    np.minimum.at(first, (bins, neurons), times - edges[bins])
    return first
