"""Make mpi_parts importable in spawned worker ranks (they get the coordinator's sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
