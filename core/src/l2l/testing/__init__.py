"""Conformance checks for plugin authors, usable from pytest.

>>> from l2l.testing import check_optimizer, check_optimizee, check_executor
>>> check_optimizer(MyOptimizer)          # doctest: +SKIP

Each check raises ``AssertionError`` naming the broken rule, and returns None when all pass.
"""

from __future__ import annotations

from .executor import check_executor
from .optimizee import check_optimizee
from .optimizer import check_optimizer

__all__ = ["check_executor", "check_optimizee", "check_optimizer"]
