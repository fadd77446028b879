"""l2l-arbor: Arbor single-cell models as l2l optimizees (``arbor-cell``)."""

from __future__ import annotations

from .optimizee import ArborCell

__all__ = ["ArborCell"]
