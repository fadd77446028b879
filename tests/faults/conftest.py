"""Fixtures of the fault-injection suite (see tests/support/fault_harness.py)."""

from __future__ import annotations

import pytest
from fault_harness import Harness, answer_ctrl_c

answer_ctrl_c()


@pytest.fixture
def harness(tmp_path):
    """A :class:`Harness`; fails the test if any of its processes or temporary files remain."""
    h = Harness(tmp_path)
    yield h
    left = h.leftovers()
    h.kill_leftovers()
    assert not left, f"processes left behind: {left}"
    files = h.tmp_files()
    assert not files, f"files left in TMPDIR: {files}"
