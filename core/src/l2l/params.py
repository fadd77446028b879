"""scikit-learn style keyword arguments: constructors only store them, and they can be read back."""

from __future__ import annotations

import inspect
from typing import Any


class KeywordArgs:
    """Mixin: :meth:`get_params` returns the constructor's keyword arguments as stored."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [n for n, p in sig.parameters.items()
                if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments (read from attributes of the same name)."""
        return {n: getattr(self, n) for n in self._param_names() if hasattr(self, n)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
