"""Electrophysiological features of voltage traces with eFEL, and their z-score distances.

A feature's value is the mean of what eFEL returns for the trace (per-spike features such as
``AP_amplitude`` are averaged); None when eFEL cannot compute it (no spikes, too few spikes).
Spikes are detected by eFEL from the voltage itself (threshold crossings), never from Arbor's
spike recorder.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
from l2l import ConfigError

DEFAULT_FEATURES = ("Spikecount", "mean_frequency", "time_to_first_spike", "AP_amplitude",
                    "AP_width", "AHP_depth", "ISI_CV", "voltage_base")
DEFAULT_EFEL_SETTINGS = {"Threshold": -20.0}


@lru_cache(maxsize=1)
def known_features() -> frozenset[str]:
    """eFEL's feature names (asking eFEL re-initialises it: ~10 ms, so once)."""
    import efel

    return frozenset(efel.get_feature_names())


def check_features(names: Sequence[str]) -> None:
    """ConfigError for names eFEL does not know."""
    bad = [n for n in names if n not in known_features()]
    if bad:
        raise ConfigError(f"unknown eFEL feature(s) {bad} (see efel.get_feature_names())")


def compute(time: np.ndarray, voltages: Sequence[np.ndarray], stimuli: Sequence[tuple[float, float]],
            names: Sequence[str], settings: Mapping[str, Any]) -> list[dict[str, float | None]]:
    """The features ``names`` of each voltage trace (ms, mV), with the stimulus window of each."""
    import efel

    apply_settings(settings)
    # lists: eFEL copies its inputs element by element, which is slow for numpy arrays
    t = np.asarray(time, dtype=float).tolist()
    traces = [{"T": t, "V": np.asarray(v, dtype=float).tolist(), "stim_start": [float(s)],
               "stim_end": [float(e)]} for v, (s, e) in zip(voltages, stimuli)]
    raw = efel.get_feature_values(traces, list(names), raise_warnings=False)
    out = []
    for values in raw:
        row: dict[str, float | None] = {}
        for name in names:
            val = values.get(name)
            arr = None if val is None else np.asarray(val, dtype=float).reshape(-1)
            row[name] = float(np.mean(arr)) if arr is not None and arr.size and \
                np.all(np.isfinite(arr)) else None
        out.append(row)
    return out


_applied: dict[str, Any] | None = None


def apply_settings(given: Mapping[str, Any]) -> None:
    """Set eFEL's (process-global) settings: ours (:data:`DEFAULT_EFEL_SETTINGS`) updated with
    ``given``; a reset costs ~10 ms, so only on a change."""
    import efel

    global _applied
    settings = {**DEFAULT_EFEL_SETTINGS, **dict(given)}
    if settings == _applied:
        return
    efel.reset()
    for key, value in settings.items():
        try:
            efel.set_setting(key, value)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"efel_settings: {key} = {value!r}: {exc}") from None
    _applied = dict(settings)


def std_of(name: str, target: float, feature_std: Mapping[str, float], relative_std: float,
           min_std: float) -> float:
    """The scale of a feature's distance: the configured std, else a fraction of the target."""
    if name in feature_std:
        std = float(feature_std[name])
        if std <= 0:
            raise ConfigError(f"feature_std[{name!r}] must be positive, got {std}")
        return std
    return max(abs(target) * float(relative_std), float(min_std))
