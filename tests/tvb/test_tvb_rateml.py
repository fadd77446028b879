"""RateML in: the expression parser, the XML reader and its errors, parameters and domains, the
kernel cache, and RateML models inside the ``tvb-fc`` optimizee."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from l2l import ConfigError
from l2l_tvb import TvbFc
from l2l_tvb.batched import as_spec, simulate
from l2l_tvb.expr import ExprError, evaluate, parse, to_c, to_python
from l2l_tvb.kernel_cache import cache_dir, store
from l2l_tvb.rateml import model_from_xml, rateml_dir

WILSON_COWAN = str(Path(__file__).resolve().parent / "models" / "WilsonCowan.xml")


# -- expressions -------------------------------------------------------------------------------
@pytest.mark.parametrize("text,value", [
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("8 / 4 / 2", 1.0), ("10 - 3 - 2", 5.0),
    ("-2^2", -4.0), ("{-2^2}", -4.0), ("(-2)^2", 4.0), ("2^3^2", 512.0), ("2 ** -1", 0.5),
    ("{x^3} - x * x * x", 0.0), ("1.0f / 4", 0.25), ("~3 + 1", -2.0), ("1e-3 * 1e3", 1.0),
    ("sqrt(16) + exp(0) + abs(-2)", 7.0), ("max(1, 2) + min(1, 2)", 3.0), ("pi", math.pi),
    ("x .lt. 3 .and. x .ge. 2", 1.0), ("x < 2 || x >= 2.5", 1.0), ("!(x == 2.5)", 0.0), ("not x", 0.0),
])
def test_expression_values(text, value):
    assert evaluate(parse(text), {"x": 2.5}) == pytest.approx(value, rel=1e-15, abs=1e-15)


def test_emitted_python_and_c_keep_the_evaluation_order():
    node = parse("d * tau * (alpha * W - f * {V^3} + e * {V^2}) / tau - -x ^ 2")
    names = lambda n: f"v_{n}"  # noqa: E731
    py = to_python(node, names)
    assert py == "v_d * v_tau * (v_alpha * v_W - v_f * v_V ** 3 + v_e * v_V ** 2) / v_tau - -v_x ** 2"
    env = dict(d=0.3, tau=1.7, alpha=-0.4, W=0.9, f=1.1, V=-1.3, e=2.2, x=0.7)
    assert eval(py, {"math": math}, {f"v_{k}": v for k, v in env.items()}) == evaluate(node, env)
    assert to_c(node, names) == "v_d * v_tau * (v_alpha * v_W - v_f * ipow(v_V, 3) + v_e * ipow(v_V, 2)) / v_tau - -ipow(v_x, 2)"
    assert to_c(parse("1 / 2 + x^0.5"), names) == "1.0 / 2.0 + pow(v_x, 0.5)"


@pytest.mark.parametrize("text,message", [
    ("a +", "unexpected the end"), ("a + * b", "unexpected '\\*' at column 5"), ("(a + b", "expected '\\)'"),
    ("foo(1)", "unknown function 'foo'"), ("pow(1)", "takes 2"), ("a $ b", "unexpected character '\\$'"),
    ("", "empty"), ("a < b < c", "chained comparison"),
])
def test_expression_errors(text, message):
    with pytest.raises(ExprError, match=message):
        parse(text)


# -- the XML reader ----------------------------------------------------------------------------
MINIMAL = """<Lems>
  <ComponentType name="derivatives">
    <Parameter name="global_coupling" dimension="0.1, 0.4"/>
    <Constant name="k" dimension="lo=0.0, hi=2.0, step=0.1" value="0.5"/>
    <Constant name="m" value="3 / 4"/>
    <DerivedParameter name="km" value="k * m"/>
    <Exposure name="x" dimension=""/>
    <Dynamics>
      <StateVariable name="x" dimension="-1, 1" exposure="-5, None"/>
      {dynamics}
      <TimeDerivative variable="dx" value="{dx}"/>
    </Dynamics>
  </ComponentType>
  <ComponentType name="coupling_x">
    <Parameter name="x_j" dimension="0"/>
    <DerivedParameter name="c_pop0" value="global_coupling"/>
    <Dynamics>
      <DerivedVariable name="pre" value="x_j"/>
      <DerivedVariable name="post" value="1"/>
    </Dynamics>
  </ComponentType>
</Lems>"""


def minimal(dynamics: str = "", dx: str = "-km * x + c_pop0") -> str:
    return MINIMAL.format(dynamics=dynamics, dx=dx)


def test_minimal_model_is_read():
    spec = model_from_xml(minimal())
    assert spec.state_variables == ("x",)
    assert spec.param_names == ("k", "m")
    assert spec.defaults() == {"k": 0.5, "m": 0.75}
    assert spec.domains() == {"k": (0.0, 2.0), "coupling": (0.1, 0.4)}
    assert (spec.lower, spec.upper, spec.initial_range) == ((-5.0,), (math.inf,), ((-1.0, 1.0),))
    assert [name for name, _ in spec.derived] == ["km"]
    assert spec.couplings[0].linear and spec.cvars == (0,)


@pytest.mark.parametrize("dynamics,dx,message", [
    ('<Foo name="y"/>', "x", r"Foo 'y' \(line 10\): unsupported element in Dynamics"),
    ("", "-x + nope", r"TimeDerivative 'dx' \(line 11\): unknown name\(s\) 'nope'"),
    ("", "-x +", r"TimeDerivative 'dx' \(line 11\): value='-x \+': unexpected the end"),
    ('<DerivedVariable name="y" value="z"/><DerivedVariable name="z" value="1"/>', "x",
     r"DerivedVariable 'y' \(line 10\): unknown name\(s\) 'z'"),
    ('<DerivedVariable name="k" value="1"/>', "x", r"DerivedVariable 'k' \(line 10\): 'k' is already defined"),
    ('<ConditionalDerivedVariable name="y"><Case condition="else" value="1"/><Case condition="x &lt; 0" value="2"/>'
     '</ConditionalDerivedVariable>', "y", r"Case \(line 10\): a Case after the 'else' case"),
    ('<TimeDerivative variable="dx" value="1"/>', "x", r"TimeDerivative 'dx' \(line 11\): a second time derivative"),
])
def test_xml_errors_name_the_element_and_line(dynamics, dx, message):
    with pytest.raises(ConfigError, match=message):
        model_from_xml(minimal(dynamics, dx))


def test_other_xml_errors():
    with pytest.raises(ConfigError, match="not well-formed XML at line 1"):
        model_from_xml("<Lems><oops></Lems>")
    with pytest.raises(ConfigError, match=r"Include \(line 1\): unsupported element"):
        model_from_xml('<Lems><Include file="x.xml"/></Lems>')
    with pytest.raises(ConfigError, match="array values are not supported"):
        model_from_xml(minimal().replace('value="3 / 4"', 'value="[1, 2]"'))
    with pytest.raises(ConfigError, match=r"dimension '3' is not a state variable"):
        model_from_xml(minimal().replace('name="x_j" dimension="0"', 'name="x_j" dimension="3"'))
    with pytest.raises(ConfigError, match="unsupported component type"):
        model_from_xml(minimal().replace('name="coupling_x"', 'name="synapse"'))


def test_tvb_contrib_zerlaut_is_a_clear_error():
    """tvb-contrib's zerlaut.xml is not well-formed XML (an '&' in an attribute, line 123)."""
    with pytest.raises(ConfigError, match=r"zerlaut.xml: not well-formed XML at line 123"):
        as_spec("rateml:zerlaut")
    with pytest.raises(ConfigError, match="no model 'nosuch'.*have: epileptor"):
        as_spec("rateml:nosuch")
    assert (rateml_dir() / "zerlaut.xml").is_file()


def test_rateml_semantics_of_tvb_contrib_models():
    """What l2l reads from tvb-contrib's XML: couplings, bounds, domains, the empty coupling."""
    epi = as_spec("rateml:epileptor")
    assert [c.name for c in epi.couplings] == ["c_pop0", "c_pop1"]
    assert epi.couplings[0].source == 0 and not epi.couplings[0].linear   # sin(x1_j - x1)
    assert epi.couplings[1].source is None                                 # sums nothing: 0
    assert epi.domains()["x0"] == (-3.0, -1.0) and "a" not in epi.domains()
    assert epi.gates() == (("Ks", "Kvf"),)   # the gather is skipped while Kvf = Ks = 0
    kur = as_spec("rateml:kuramoto")
    assert (kur.lower, kur.upper) == ((-2.0,), (1.0,))
    assert kur.defaults()["omega"] == 60.0 * 2.0 * 3.1415927 / 1e3
    rww = as_spec("rateml:rwongwang")   # repeats Constant J_NMDA with the same value: accepted
    assert rww.param_names.count("J_NMDA") == 1
    mpr = as_spec("MontbrioPazoRoxin")
    assert mpr.active({"cr": np.array([1.0, 0.0]), "cv": np.array([0.0, 0.0])}).tolist() == [True, False]


def test_exposure_expressions_are_observables(conn68):
    kw = dict(coupling_a=0.5, dt=0.5, speed=10.0, istep=4, state_range={"E": (0.0, 0.5), "I": (0.0, 0.5)})
    both = simulate(WILSON_COWAN, conn68, 200, [1, 2], voi=("E", "I"), **kw).samples
    diff = simulate(WILSON_COWAN, conn68, 200, [1, 2], voi=("E - I",), **kw).samples
    np.testing.assert_allclose(diff[:, 0], both[:, 0] - both[:, 1], rtol=0, atol=1e-12)
    assert np.abs(diff).max() > 1e-3
    with pytest.raises(ConfigError, match="exposures"):
        simulate(WILSON_COWAN, conn68, 10, [1], voi=("nope",))


# -- separable couplings ------------------------------------------------------------------------
@pytest.mark.parametrize("text,rows", [
    ("x_j", 1), ("x_j - x", 1), ("sin(x_j - x)", 2), ("cos(x_j + 2 * x)", 2), ("a * (x_j - x) / 3", 1),
    ("exp(x_j) * x - x_j", 2), ("-sin(x_j - x) + x_j * x", 3), ("x * x", 0),
])
def test_separable_terms_add_up_to_the_per_connection_term(text, rows):
    """codegen.separate: pre = sum_t f_t(x_j) g_t(x, a) with f_t free of x and g_t free of x_j."""
    from l2l_tvb.codegen import separate
    from l2l_tvb.expr import names

    parts = separate(parse(text), "x_j")
    assert parts is not None and sum(f is not None for f, _ in parts) == rows
    rng = np.random.default_rng(1)
    for _ in range(5):
        env = dict(zip(("x_j", "x", "a"), rng.uniform(-2, 2, 3)))
        total = sum((1.0 if f is None else evaluate(f, env)) * evaluate(g, env) for f, g in parts)
        assert total == pytest.approx(evaluate(parse(text), env), rel=1e-13, abs=1e-13)
        for f, g in parts:
            assert f is None or names(f) <= {"x_j"}
            assert "x_j" not in names(g)


@pytest.mark.parametrize("text", ["tanh(x_j - x)", "x_j ** x - x", "sin(x_j * x)", "x_j / x + x_j / (x_j + x)"])
def test_other_terms_do_not_separate(text):
    from l2l_tvb.codegen import separate

    assert separate(parse(text), "x_j") is None


def test_per_connection_path_matches_the_separable_one(conn68, monkeypatch):
    """The same coupling (sin(V_j - V), rateml:kuramoto) summed per connection with its ``pre``
    (the path of couplings that do not separate) and through the separable ring rows."""
    from l2l_tvb import codegen
    from l2l_tvb.codegen_cpu import cpu_kernel

    spec = as_spec("rateml:kuramoto")
    kw = dict(params={"omega": 0.3}, coupling_a=0.5, speed=10.0, dt=0.1, state_range={"V": (-1.5, 0.5)}, nsig=0.0,
              istep=1)
    fast = simulate(spec, conn68, 400, [1, 2, 3], **kw).samples
    assert codegen.layout(spec).linear_rows and not codegen.layout(spec).general_rows
    monkeypatch.setattr(codegen, "MAX_TERMS", 0)
    cpu_kernel.cache_clear()
    try:
        assert codegen.layout(spec).general_rows and not codegen.layout(spec).linear_rows
        slow = simulate(spec, conn68, 400, [1, 2, 3], **kw).samples
    finally:
        monkeypatch.undo()
        cpu_kernel.cache_clear()
    assert np.abs(fast[-1] - fast[0]).max() > 0.1           # it moves
    assert np.abs(fast - slow).max() <= 1e-12 * np.abs(fast).max()


# -- the kernel cache --------------------------------------------------------------------------
def test_kernel_cache_location_and_content_names(tmp_path, monkeypatch):
    monkeypatch.setenv("L2L_TVB_CACHE", str(tmp_path / "kernels"))
    assert cache_dir() == tmp_path / "kernels"
    a = store("cpu_x", "print(1)\n", ".py")
    b = store("cpu_x", "print(2)\n", ".py")
    assert a.parent == b.parent == tmp_path / "kernels" and a != b
    assert store("cpu_x", "print(1)\n", ".py") == a and a.read_text() == "print(1)\n"
    monkeypatch.delenv("L2L_TVB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if cache_dir() == tmp_path / "xdg" / "l2l-tvb" / "kernels":   # Linux
        assert not str(cache_dir()).startswith(str(Path(__file__).parents[2]))


def test_generated_kernel_lives_in_the_cache(conn68):
    from l2l_tvb.codegen_cpu import cpu_kernel

    module = cpu_kernel(as_spec(WILSON_COWAN))
    path = Path(module.__file__)
    assert path.parent == cache_dir() and path.name.startswith("cpu_WilsonCowan")
    text = path.read_text()
    assert "def block_stochastic(" in text and "def block_deterministic(" in text and "v_s_e" in text


# -- RateML models in the optimizee ------------------------------------------------------------
FAST = dict(connectivity=68, simulation_length=400.0, transient=100.0, dt=0.5, period=2.0, speed=10.0, nsig=0.0)


def test_domains_are_the_default_search_space():
    opt = TvbFc(model="rateml:montbrio", **FAST)
    space = opt.space()
    assert set(space.names) == {"tau", "I", "Delta", "J", "eta", "Gamma", "cr", "cv", "coupling"}
    assert space["eta"].bounds() == (-10.0, 10.0) and space["coupling"].bounds() == (0.33, 0.5)
    opt = TvbFc(model="rateml:montbrio", parameters={"eta": {}, "J": {"low": 10.0, "high": 20.0}}, **FAST)
    assert opt.space()["eta"].bounds() == (-10.0, 10.0) and opt.space()["J"].bounds() == (10.0, 20.0)
    with pytest.raises(ConfigError, match="missing 'low'"):
        TvbFc(model="rateml:montbrio", parameters={"alpha": {}}, **FAST).space()


def test_rateml_models_on_the_tvb_engine_are_config_errors():
    with pytest.raises(ConfigError, match="RateML model: it runs on engine = 'batched'"):
        TvbFc(engine="tvb", model="rateml:kuramoto", parameters={"coupling": {"low": 0, "high": 1}}).setup()


def test_rateml_model_as_a_target_recovery_problem(tmp_path):
    """An FC simulated from known parameters of a RateML model (tvb-contrib's montbrio.xml, in
    the regime of examples/fit_mpr.py) is a target the optimizee scores: re-simulations at the
    true parameters fit it far better than parameters away from them, for fresh noise seeds."""
    kw = dict(model="rateml:montbrio", model_params={"J": 5.0, "Delta": 1.0}, fc_variable="r", connectivity=76,
              normalize_weights=True, speed=10.0, dt=0.05, period=20.0, simulation_length=2000.0,
              transient=200.0, nsig=[0.0, 0.01], state_range={"r": (0.0, 0.2), "V": (-2.2, -1.8)})
    space = {"coupling": {"low": 0.1, "high": 0.35}, "eta": {}}
    truth = {"coupling": 0.24, "eta": -2.0}
    sim = TvbFc(parameters=space, **kw)
    assert sim.space()["eta"].bounds() == (-10.0, 10.0)   # montbrio.xml's domain of eta
    target = sim.evaluate(truth, 12345).observation
    fc = np.eye(76)
    fc[np.triu_indices(76, 1)] = target
    fc = np.maximum(fc, fc.T)
    np.save(tmp_path / "target.npy", fc)
    fit = TvbFc(parameters=space, target=str(tmp_path / "target.npy"), **kw)
    points = [truth, {"coupling": 0.12, "eta": -2.0}, {"coupling": 0.24, "eta": -2.6}]
    evs = fit.evaluate_batch([p for p in points for _ in range(2)], [1, 2] * 3)
    score = [np.mean([e.fitness[0] for e in evs[2 * k:2 * k + 2]]) for k in range(3)]
    assert score[0] > 0.5
    assert score[0] > max(score[1:]) + 0.3
