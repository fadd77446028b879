"""Parameter spaces: named float / int / categorical parameters, scalars or fixed-shape arrays.

A :class:`Space` samples candidates with a ``numpy.random.Generator``, bounds vectors by
clipping or reflection (L2L's "bounding function"), flattens parameter dicts to vectors for
vector-based optimizers and back, and round-trips through JSON.

>>> space = Space([Float("x", -5.0, 5.0, shape=3), Int("n", 1, 8), Categorical("kind", ["a", "b"])])
>>> space.dim
5
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .errors import ConfigError

Params = dict[str, Any]
BOUNDING = ("clip", "reflect")


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


class Float:
    """A real parameter in ``[low, high]``; ``shape`` (an int or a tuple) makes it an array."""

    kind = "float"

    def __init__(self, name: str, low: float, high: float, shape: int | Sequence[int] = ()):
        self.name = name
        self.low = float(low)
        self.high = float(high)
        self.shape: tuple[int, ...] = _shape(shape)
        if not (np.isfinite(self.low) and np.isfinite(self.high)):
            raise ConfigError(f"parameter {self.name!r}: bounds must be finite")
        if self.low > self.high:
            raise ConfigError(
                f"parameter {self.name!r}: lower bound {self.low} is above upper bound {self.high}"
            )

    def __repr__(self) -> str:
        shape = f", shape={self.shape}" if self.shape else ""
        return f"{type(self).__name__}({self.name!r}, {self.low:g}, {self.high:g}{shape})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_json() == other.to_json()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name, self.low, self.high, self.shape))

    @property
    def size(self) -> int:
        return prod(self.shape)

    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def decode(self, values: np.ndarray) -> Any:
        values = np.clip(values, self.low, self.high)
        return float(values[0]) if not self.shape else values.reshape(self.shape).copy()

    def encode(self, value: Any) -> np.ndarray:
        return np.asarray(value, dtype=float).reshape(-1)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name, "low": self.low, "high": self.high,
                "shape": list(self.shape)}


class Int(Float):
    """An integer parameter in ``[low, high]`` (inclusive)."""

    kind = "int"

    def decode(self, values: np.ndarray) -> Any:
        values = np.clip(np.rint(values), self.low, self.high).astype(np.int64)
        return int(values[0]) if not self.shape else values.reshape(self.shape)


@dataclass(frozen=True)
class Categorical:
    """One of a fixed list of choices; a vector optimizer sees the choice's index."""

    name: str
    choices: tuple[Any, ...]
    kind = "categorical"

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices:
            raise ConfigError(f"parameter {self.name!r}: no choices")

    shape: tuple[int, ...] = ()
    size = 1

    def bounds(self) -> tuple[float, float]:
        return 0.0, float(len(self.choices) - 1)

    def decode(self, values: np.ndarray) -> Any:
        return self.choices[int(np.clip(np.rint(values[0]), 0, len(self.choices) - 1))]

    def encode(self, value: Any) -> np.ndarray:
        try:
            return np.array([float(self.choices.index(value))])
        except ValueError:
            raise ConfigError(
                f"parameter {self.name!r}: {value!r} is not one of {list(self.choices)}") from None

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name, "choices": list(self.choices)}


Parameter = Float | Int | Categorical
_KINDS: dict[str, type] = {"float": Float, "int": Int, "categorical": Categorical}


def parameter_from_spec(name: str, spec: Mapping[str, Any]) -> Parameter:
    """Build a parameter from a config table such as ``{low = 0, high = 1, shape = 3}``.

    ``type`` is ``"float"`` (default), ``"int"`` or ``"categorical"`` (then ``choices``).
    """
    spec = dict(spec)
    kind = spec.pop("type", "categorical" if "choices" in spec else "float")
    if kind not in _KINDS:
        raise ConfigError(f"parameter {name!r}: unknown type {kind!r} (use float, int, categorical)")
    try:
        if kind == "categorical":
            return Categorical(name, tuple(spec.pop("choices")))
        low, high = spec.pop("low"), spec.pop("high")
        param = _KINDS[kind](name, low, high, spec.pop("shape", ()))
    except KeyError as missing:
        raise ConfigError(f"parameter {name!r}: missing {missing.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"parameter {name!r}: {exc}") from None
    if spec:
        raise ConfigError(f"parameter {name!r}: unknown keys {sorted(spec)}")
    return param


class Space:
    """An ordered collection of named parameters."""

    def __init__(self, parameters: Iterable[Parameter]):
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate parameter names in space: {names}")
        bounds = [p.bounds() for p in self.parameters for _ in range(p.size)]
        self.lower = np.array([b[0] for b in bounds], dtype=float)
        self.upper = np.array([b[1] for b in bounds], dtype=float)
        self._slices: list[slice] = []
        start = 0
        for p in self.parameters:
            self._slices.append(slice(start, start + p.size))
            start += p.size

    @classmethod
    def from_config(cls, table: Mapping[str, Mapping[str, Any]]) -> Space:
        """Build a space from a ``{name: {low=..., high=..., ...}}`` config table."""
        return cls(parameter_from_spec(name, spec) for name, spec in table.items())

    @property
    def dim(self) -> int:
        """Length of the flat vector representation."""
        return int(self.lower.size)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Space({list(self.parameters)!r})"

    # -- vectors ---------------------------------------------------------------------------
    def sample_vectors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` vectors drawn uniformly within the bounds, shape ``(n, dim)``."""
        return rng.uniform(self.lower, self.upper, size=(n, self.dim))

    def sample(self, rng: np.random.Generator, n: int) -> list[Params]:
        """``n`` parameter dicts drawn uniformly within the bounds."""
        return [self.from_vector(v) for v in self.sample_vectors(rng, n)]

    def bound(self, vectors: np.ndarray, method: str = "clip") -> np.ndarray:
        """Bring vectors (shape ``(dim,)`` or ``(n, dim)``) into the bounds.

        ``clip`` moves each coordinate to the nearest bound; ``reflect`` mirrors it at the
        bound it crossed (repeatedly, so any finite value lands inside).
        """
        x = np.asarray(vectors, dtype=float)
        if method == "clip":
            return np.clip(x, self.lower, self.upper)
        if method != "reflect":
            raise ConfigError(f"unknown bounding method {method!r} (use one of {BOUNDING})")
        width = self.upper - self.lower
        safe = np.where(width > 0, width, 1.0)
        phase = np.mod(x - self.lower, 2 * safe)
        folded = np.where(phase > safe, 2 * safe - phase, phase)
        return np.where(width > 0, self.lower + folded, self.lower)

    def to_vector(self, params: Mapping[str, Any]) -> np.ndarray:
        """Flatten a parameter dict into a vector (order of :attr:`parameters`)."""
        self.validate(params)
        return np.concatenate([p.encode(params[p.name]) for p in self.parameters]) \
            if self.parameters else np.zeros(0)

    def from_vector(self, vector: np.ndarray) -> Params:
        """Turn a vector into a parameter dict, clipping into bounds and rounding ints."""
        vector = np.asarray(vector, dtype=float).reshape(-1)
        if vector.size != self.dim:
            raise ValueError(f"vector has {vector.size} entries, the space needs {self.dim}")
        return {p.name: p.decode(vector[s]) for p, s in zip(self.parameters, self._slices)}

    def validate(self, params: Mapping[str, Any]) -> None:
        """Raise :class:`ConfigError` unless ``params`` names exactly this space's parameters
        with values of the right shape."""
        missing = [n for n in self.names if n not in params]
        extra = [n for n in params if n not in self.names]
        if missing or extra:
            raise ConfigError(f"parameters do not match the space: missing {missing}, unknown {extra}")
        for p in self.parameters:
            if p.kind != "categorical" and np.shape(params[p.name]) != p.shape:
                raise ConfigError(
                    f"parameter {p.name!r} has shape {np.shape(params[p.name])}, expected {p.shape}"
                )

    # -- JSON ------------------------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.parameters]

    @classmethod
    def from_json(cls, data: Sequence[Mapping[str, Any]]) -> Space:
        return cls(parameter_from_spec(d["name"], {k: v for k, v in d.items() if k != "name"})
                   for d in data)
