"""Start-up shared by the l2l-tvb benches (bench/tvb.py, bench/gpu.py): quiet warnings and
TVB's logging, and keep this folder off the front of ``sys.path`` (bench/tvb.py would shadow
tvb-library's ``tvb`` package) while its helpers (machine, summary) stay importable."""

from __future__ import annotations

import logging
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.append(HERE)
