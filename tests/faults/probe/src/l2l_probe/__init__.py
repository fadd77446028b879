"""l2l-probe: the fault-injection suite's optimizee (``probe``), which misbehaves on request."""

from __future__ import annotations

from .probe import FAULTS, Probe

__all__ = ["FAULTS", "Probe"]
