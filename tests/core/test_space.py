from __future__ import annotations

import json

import numpy as np
import pytest

from l2l import Categorical, ConfigError, Float, Int, Space
from l2l.space import parameter_from_spec


def make_space() -> Space:
    return Space([Float("w", -2.0, 2.0, shape=(2, 3)), Int("n", 1, 8), Categorical("kind", ["a", "b", "c"]),
                  Float("tau", 0.5, 0.5)])


def test_dim_and_bounds():
    s = make_space()
    assert s.dim == 6 + 1 + 1 + 1
    assert s.lower.tolist() == [-2.0] * 6 + [1.0, 0.0, 0.5]
    assert s.upper.tolist() == [2.0] * 6 + [8.0, 2.0, 0.5]


def test_sample_is_in_bounds_and_reproducible():
    s = make_space()
    a = s.sample(np.random.default_rng(3), 50)
    b = s.sample(np.random.default_rng(3), 50)
    for p, q in zip(a, b):
        assert np.array_equal(p["w"], q["w"]) and p["n"] == q["n"] and p["kind"] == q["kind"]
        assert p["w"].shape == (2, 3) and np.all(np.abs(p["w"]) <= 2.0)
        assert isinstance(p["n"], int) and 1 <= p["n"] <= 8
        assert p["kind"] in ("a", "b", "c") and p["tau"] == 0.5
    assert {p["kind"] for p in a} == {"a", "b", "c"}


def test_vector_round_trip():
    s = make_space()
    p = {"w": np.arange(6.0).reshape(2, 3) / 10, "n": 5, "kind": "c", "tau": 0.5}
    v = s.to_vector(p)
    assert v.shape == (s.dim,)
    back = s.from_vector(v)
    assert np.array_equal(back["w"], p["w"]) and back["n"] == 5 and back["kind"] == "c"


def test_from_vector_rounds_and_clips():
    s = Space([Int("n", 0, 4), Categorical("c", ["x", "y"]), Float("f", 0, 1)])
    assert s.from_vector(np.array([2.6, 0.4, 7.0])) == {"n": 3, "c": "x", "f": 1.0}
    assert s.from_vector(np.array([-9.0, 9.0, -1.0])) == {"n": 0, "c": "y", "f": 0.0}


def test_bounding_clip_and_reflect():
    s = Space([Float("x", 0.0, 1.0, shape=4)])
    x = np.array([1.25, -0.25, 0.5, 3.4])
    assert np.allclose(s.bound(x, "clip"), [1.0, 0.0, 0.5, 1.0])
    assert np.allclose(s.bound(x, "reflect"), [0.75, 0.25, 0.5, 0.6])
    many = np.random.default_rng(0).normal(0, 10, size=(100, 4))
    r = s.bound(many, "reflect")
    assert r.shape == many.shape and r.min() >= 0 and r.max() <= 1
    with pytest.raises(ConfigError, match="bounding"):
        s.bound(x, "wrap")


def test_json_round_trip():
    s = make_space()
    text = json.dumps(s.to_json())
    assert Space.from_json(json.loads(text)) == s


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="above upper bound"):
        Float("x", 2, 1)
    with pytest.raises(ConfigError, match="duplicate"):
        Space([Float("x", 0, 1), Int("x", 0, 1)])
    with pytest.raises(ConfigError, match="missing 'high'"):
        parameter_from_spec("x", {"low": 0})
    with pytest.raises(ConfigError, match="unknown type"):
        parameter_from_spec("x", {"type": "complex", "low": 0, "high": 1})
    with pytest.raises(ConfigError, match="missing"):
        make_space().validate({"w": np.zeros((2, 3))})
    with pytest.raises(ConfigError, match="shape"):
        Space([Float("w", 0, 1, shape=3)]).validate({"w": np.zeros(4)})


def test_from_config_table():
    s = Space.from_config({"g": {"low": 1, "high": 8}, "k": {"type": "int", "low": 1, "high": 3},
                           "mode": {"choices": ["a", "b"]}})
    assert [p.kind for p in s] == ["float", "int", "categorical"]
