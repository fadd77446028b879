from __future__ import annotations

import numpy as np
import pytest

from l2l import ConfigError, Evaluation, Objectives
from l2l.evaluation import as_evaluation, losses
from l2l import serialize


def test_loss_signs_and_weights():
    o = Objectives(("a", "b"), ("min", "max"))
    assert o.loss((1.0, 3.0)) == pytest.approx(-2.0)
    assert o.with_weights((2.0, 0.5)).loss((1.0, 3.0)) == pytest.approx(0.5)
    with pytest.raises(ConfigError):
        Objectives(("a",), ("up",))
    with pytest.raises(ConfigError):
        Objectives(("a",), ("min",), (1.0, 2.0))
    assert Objectives.from_json(o.to_json()) == o


def test_as_evaluation_normalises_and_flags_failures():
    assert as_evaluation(3, 1).fitness == (3.0,)
    assert as_evaluation((1, 2), 2).fitness == (1.0, 2.0)
    ev = as_evaluation({"fitness": 1.5, "observation": [1, 2]}, 1)
    assert ev.ok and ev.observation.tolist() == [1.0, 2.0]
    bad = as_evaluation(float("nan"), 1)
    assert not bad.ok and "non-finite" in bad.error
    wrong = as_evaluation((1.0, 2.0), 1)
    assert not wrong.ok and "2 values" in wrong.error


def test_losses_penalise_failures():
    o = Objectives()
    evs = [Evaluation((1.0,)), Evaluation.failed("boom"), Evaluation((-3.0,))]
    got = losses(evs, o)
    assert got[0] == 1.0 and got[2] == -3.0 and got[1] > 1.0
    assert losses(evs, o, penalty=99.0)[1] == 99.0
    assert losses([Evaluation.failed("x")], o)[0] == 1e12


def test_serialize_is_bit_exact_and_pickle_free():
    state = {"a": np.random.default_rng(0).normal(size=(3, 2)), "n": np.int64(3),
             "f": float("inf"), "nested": [np.arange(3, dtype=np.int32), {"b": None}],
             "rng": np.random.default_rng(1).bit_generator.state}
    text = serialize.dumps(state)
    assert "pickle" not in text
    back = serialize.loads(text)
    assert np.array_equal(back["a"], state["a"]) and back["a"].dtype == state["a"].dtype
    assert back["nested"][0].dtype == np.int32 and back["f"] == float("inf")
    g = np.random.default_rng(5)
    g.bit_generator.state = back["rng"]
    h = np.random.default_rng(1)
    assert g.random() == h.random()
