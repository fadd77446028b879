"""l2l-dask: the ``dask`` executor (a local or remote Dask cluster)."""

from __future__ import annotations

from .executor import DaskExecutor

__all__ = ["DaskExecutor"]
