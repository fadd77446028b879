"""Fixtures for the core's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def tmp_store(tmp_path):
    return str(tmp_path / "runs.db")
