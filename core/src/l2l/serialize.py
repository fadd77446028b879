"""JSON with numpy arrays, bit-exact and pickle-free.

Optimizer state, parameters and observations travel through this encoding into the store, so a
run can be read and resumed without importing the plugin that produced it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

_ARRAY = "__ndarray__"


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError("object arrays cannot be serialised")
        data = base64.b64encode(np.ascontiguousarray(obj).tobytes()).decode("ascii")
        return {_ARRAY: data, "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"__float__": repr(obj)}
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if _ARRAY in obj:
            raw = base64.b64decode(obj[_ARRAY])
            return np.frombuffer(raw, dtype=np.dtype(obj["dtype"])).reshape(obj["shape"]).copy()
        if "__float__" in obj and len(obj) == 1:
            return float(obj["__float__"])
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """Serialise ``obj`` (dicts, lists, scalars, numpy arrays) to a JSON string."""
    return json.dumps(_encode(obj), separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return _decode(json.loads(text))


def plain(obj: Any) -> Any:
    """Human-readable JSON form: arrays become nested lists (lossy for dtype, for display)."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj
