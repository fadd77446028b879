"""l2l-tvb: optimizees for The Virtual Brain (tvb-library), with a batched multi-instance engine."""

from __future__ import annotations

from .optimizee import TvbFc

__all__ = ["TvbFc"]
