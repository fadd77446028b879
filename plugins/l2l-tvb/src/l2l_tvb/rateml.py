"""RateML models: the LEMS-based XML of TVB's RateML read into a :class:`ModelSpec`.

A model is named ``"rateml:<name>"`` (``tvb/contrib/rateML/XMLmodels/<name>.xml`` of the
installed tvb-contrib), by the path of an ``.xml`` file, or by the name of a TVB class that
l2l-tvb ships an XML description of (``models/<Class>.xml``: Generic2dOscillator, Kuramoto,
ReducedWongWang, MontbrioPazoRoxin, ZerlautAdaptationFirstOrder, written with TVB's
equations, defaults and operation order). docs/rateml.md describes the format and how l2l reads
each element; in short:

* ``ComponentType name="derivatives"``: ``Constant`` (a per-instance parameter: ``value`` its
  default, an expression; ``dimension="lo=.., hi=.., step=.."`` its domain, the default bounds
  when it is optimized), ``Parameter`` (RateML's swept parameters: ``global_coupling`` is the
  coupling strength, ``global_speed`` the conduction speed, others per-instance parameters with
  ``dimension="lo, hi"`` as domain), ``DerivedParameter`` (computed once per instance from the
  above, ``dt`` and ``n_node``), ``Exposure`` (observables: state variables or expressions of
  them), and ``Dynamics`` with ``StateVariable`` (``dimension``: range of the random initial
  history; ``exposure``: bounds applied after each integration stage, ``None`` for none),
  ``DerivedVariable``, ``ConditionalDerivedVariable`` (``Case`` children, the last one with
  condition ``else`` or empty) and one ``TimeDerivative`` ``d<name>`` per state variable.
* ``ComponentType`` named ``coupling...``: one afferent sum per type, as RateML's CUDA kernels
  compute it: ``c = value * sum_j w_ij * post * pre``, where the ``Parameter`` names the delayed
  state of node j (``dimension``: its state variable), ``DerivedParameter`` names the result
  (``c_pop0``) and holds ``value``, and the ``DerivedVariable``\\s ``pre``/``post`` the terms.
  A coupling type without ``Parameter``, ``pre`` and ``post`` sums nothing: its result is 0.
* ``ComponentType name="noise"``: RateML's flag for additive noise (the kernels' noise is set by
  the integrator and ``nsig`` instead; ``DerivedParameter nsig`` is read as its default).

Anything else is a :class:`~l2l.ConfigError` naming the element and its line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import xml.parsers.expat
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from l2l import ConfigError

from . import expr
from .expr import Bin, Call, ExprError, Name, Node, Num

#: internal names (not writable in XML): coupling strength a and offset b, conduction speed,
#: time step, number of nodes, and the afferent sum inside a coupling's post-sum expression
A, B, SPEED, DT, N_NODE, SUM = "@a", "@b", "@speed", "@dt", "@n", "@S"
#: what RateML's reserved names stand for
RESERVED = {"global_coupling": A, "global_speed": SPEED, "dt": DT, "n_node": N_NODE}
#: RateML's driver settings among the DerivedParameters: l2l's `speed` and `nsig` replace them
DRIVER_PARAMS = ("rec_speed_dt", "nsig")
#: coupling functions of tvb.simulator.coupling that can replace a model's own
TVB_COUPLINGS = ("Linear", "Difference", "Kuramoto")
MODELS_DIR = Path(__file__).resolve().parent / "models"


# -- XML with line numbers ---------------------------------------------------------------------
@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list["Element"] = field(default_factory=list)

    def where(self) -> str:
        label = self.attrs.get("name") or self.attrs.get("variable")
        return f"{self.tag}{f' {label!r}' if label else ''} (line {self.line})"


def read_xml(text: str, source: str) -> Element:
    """The element tree of ``text`` with each element's line; malformed XML is a ConfigError
    naming the line and column."""
    parser = xml.parsers.expat.ParserCreate()
    root: list[Element] = []
    stack: list[Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        el = Element(tag, dict(attrs), parser.CurrentLineNumber)
        (stack[-1].children if stack else root).append(el)
        stack.append(el)

    def end(tag: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(text, True)
    except xml.parsers.expat.ExpatError as exc:
        raise ConfigError(f"{source}: not well-formed XML at line {exc.lineno}, column {exc.offset + 1}: "
                          f"{xml.parsers.expat.ErrorString(exc.code)}") from None
    return root[0]


# -- the model ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """A per-instance parameter of the kernels."""

    name: str
    default: float
    domain: tuple[float, float] | None
    line: int


@dataclass(frozen=True)
class Assign:
    """A derived variable: ``cases`` of (condition or None for "otherwise", value)."""

    name: str
    cases: tuple[tuple[Node | None, Node], ...]
    line: int


@dataclass(frozen=True)
class Coupling:
    """One coupling variable: ``name`` (e.g. ``c_pop0``) = ``combine`` evaluated with ``@S`` the
    afferent sum ``sum_j w_ij * pre``, where ``pre`` reads node j's delayed state variable
    ``source`` as ``pre_name`` (and node i's own current state by the state variables' names).
    ``source`` None: nothing is summed and the variable is 0. ``linear``: ``pre`` is the delayed
    state itself (the kernels then sum it in chunks of steps)."""

    name: str
    source: int | None
    pre_name: str
    pre: Node
    combine: Node
    line: int

    @property
    def linear(self) -> bool:
        return self.source is not None and self.pre == Name(self.pre_name)


@dataclass(frozen=True)
class ModelSpec:
    """Everything the kernel generators need to know about one model."""

    name: str
    source: str
    state_variables: tuple[str, ...]
    initial_range: tuple[tuple[float, float], ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    params: tuple[Param, ...]
    derived: tuple[tuple[str, Node], ...]
    assigns: tuple[Assign, ...]
    derivatives: tuple[Node, ...]
    couplings: tuple[Coupling, ...]
    observables: tuple[tuple[str, Node], ...]
    noise: bool = False
    nsig: Node | None = None
    coupling_domain: tuple[float, float] | None = None
    default_coupling: str = "model"

    # -- what callers ask ------------------------------------------------------------------
    @property
    def nsv(self) -> int:
        return len(self.state_variables)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def cvars(self) -> tuple[int, ...]:
        """State variable of each coupling variable that reads a delayed state (history rows)."""
        return tuple(c.source for c in self.couplings if c.source is not None)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def domains(self) -> dict[str, tuple[float, float]]:
        """Default bounds of the optimizable parameters: Constants with a domain, Parameters with
        a range, and ``coupling`` where ``global_coupling`` has one."""
        out = {p.name: p.domain for p in self.params if p.domain is not None}
        if self.coupling_domain is not None:
            out["coupling"] = self.coupling_domain
        return out  # type: ignore[return-value]

    def state_range(self, overrides: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
        """Range of the random initial history, (nsv, 2), with ``overrides`` in place."""
        ranges = np.array(self.initial_range, dtype=float)
        for name, pair in (overrides or {}).items():
            ranges[self.state_variables.index(name)] = pair
        return ranges

    def observable_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.observables)

    def default_nsig(self, dt: float) -> float | None:
        """TVB's ``nsig`` (D, noise ``sqrt(2 D dt) N(0, 1)`` per step) of RateML's
        ``DerivedParameter nsig`` (the per-step amplitude), or None without noise."""
        if not self.noise:
            return None
        if self.nsig is None:
            return 0.5 / dt   # RateML: amplitude 1 per step
        amp = expr.evaluate(self.nsig, {DT: dt, **self.defaults()})
        return amp * amp / (2.0 * dt)

    def gates(self) -> tuple[tuple[str, ...] | None, ...]:
        """Per history row: the parameters that multiply every use of its coupling variable
        (its gather can be skipped when all are zero in every instance), or None (always used)."""
        out: list[tuple[str, ...] | None] = []
        params = set(self.param_names)
        exprs = [*self.derivatives,
                 *(node for a in self.assigns for case in a.cases for node in case if node is not None)]
        for cp in self.couplings:
            if cp.source is None:
                continue
            found: set[str] = set()
            ok = True
            for e in exprs:
                if e == Name(cp.name):
                    ok = False
                for node in expr.walk(e):
                    for child in _children(node):
                        if child == Name(cp.name):
                            other = _gate_partner(node, child)
                            if other is None or other not in params:
                                ok = False
                            else:
                                found.add(other)
            out.append(tuple(sorted(found)) if ok else None)
        return tuple(out)

    def active(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per history row: whether any instance uses its coupling (``values``: the
        per-instance parameter arrays)."""
        return np.array([gate is None or any(np.any(np.asarray(values[g]) != 0) for g in gate)
                         for gate in self.gates()], dtype=np.bool_)

    def with_coupling(self, kind: str) -> ModelSpec:
        """This model with TVB's coupling function ``kind`` (Linear ``a * sum w x_j + b``,
        Difference ``a * sum w (x_j - x_i)``, Kuramoto ``a / n_cvar * sum w sin(x_j - x_i)``)
        on each of its coupling variables, or itself for ``"model"``."""
        if kind == "model":
            return self
        if kind not in TVB_COUPLINGS:
            raise ConfigError(f"coupling {kind!r} not supported (use 'model' or one of {', '.join(TVB_COUPLINGS)})")
        n_cvar = len(self.cvars)
        out = []
        for cp in self.couplings:
            if cp.source is None:
                out.append(cp)
                continue
            xj, xi = Name(cp.pre_name), Name(self.state_variables[cp.source])
            if kind == "Linear":
                pre, comb = xj, Bin("+", Bin("*", Name(A), Name(SUM)), Name(B))
            elif kind == "Difference":
                pre, comb = Bin("-", xj, xi), Bin("*", Name(A), Name(SUM))
            else:
                pre = Call("sin", (Bin("-", xj, xi),))
                comb = Bin("*", Bin("/", Name(A), Num(float(n_cvar), True)), Name(SUM))
            out.append(replace(cp, pre=pre, combine=comb))
        return replace(self, couplings=tuple(out), name=f"{self.name}+{kind}", default_coupling="model")

    def digest(self) -> str:
        """A hash of everything the kernels are generated from."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, expr.Unary):
        return (node.operand,)
    if isinstance(node, Bin):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _gate_partner(parent: Node, child: Node) -> str | None:
    """The parameter name that ``child`` (a coupling variable) is multiplied by in ``parent``."""
    if isinstance(parent, Bin) and parent.op == "*":
        other = parent.right if parent.left == child else parent.left
        if isinstance(other, Name):
            return other.id
    return None


# -- reading -----------------------------------------------------------------------------------
class _Reader:
    """Builds a ModelSpec from the element tree, one element at a time, raising ConfigError with
    the element and line of the first problem."""

    def __init__(self, root: Element, source: str, name: str):
        self.root, self.source, self.name = root, source, name

    def fail(self, el: Element, message: str) -> ConfigError:
        return ConfigError(f"RateML model {self.source}: {el.where()}: {message}")

    def parse(self, el: Element, attr: str, *, alt: str | None = None, required: bool = True) -> Node | None:
        text = el.attrs.get(attr, el.attrs.get(alt) if alt else None)
        if text is None or text.strip() in ("", "None", "none"):
            if required:
                raise self.fail(el, f"missing {attr!r}")
            return None
        try:
            return expr.parse(text)
        except ExprError as exc:
            raise self.fail(el, f"{attr}={text!r}: {exc}") from None

    def number(self, el: Element, text: str, what: str, env: Mapping[str, float] | None = None) -> float:
        try:
            return expr.evaluate(expr.parse(text), dict(env or {}))
        except ExprError as exc:
            raise self.fail(el, f"{what} {text!r}: {exc}") from None

    def pair(self, el: Element, attr: str, *, none_is: tuple[float, float] | None) -> tuple[float, float] | None:
        """``"lo, hi"`` (each part an expression, ``None`` for an open side) of ``attr``."""
        text = (el.attrs.get(attr) or "").strip()
        if text in ("", "None", "none"):
            return none_is
        parts = [p.strip() for p in text.split(",")]
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2:
            raise self.fail(el, f"{attr}={text!r}: expected 'low, high'")
        lo = -np.inf if parts[0] in ("None", "none") else self.number(el, parts[0], attr)
        hi = np.inf if parts[1] in ("None", "none") else self.number(el, parts[1], attr)
        return float(lo), float(hi)

    def domain(self, el: Element) -> tuple[float, float] | None:
        text = (el.attrs.get("dimension", el.attrs.get("domain")) or "").strip()
        if text in ("", "None", "none"):
            return None
        fields = dict(re.findall(r"(\w+)\s*=\s*([^,]+)", text))
        if "lo" not in fields or "hi" not in fields:
            raise self.fail(el, f"domain {text!r}: expected 'lo=..., hi=..., step=...'")
        lo, hi = self.number(el, fields["lo"], "lo"), self.number(el, fields["hi"], "hi")
        if not lo < hi:
            raise self.fail(el, f"domain {text!r}: lo must be below hi")
        return lo, hi

    def build(self) -> ModelSpec:
        if self.root.tag != "Lems":
            raise self.fail(self.root, "the root element must be <Lems>")
        derivs, couplings = None, []
        noise = False
        for ct in self.root.children:
            if ct.tag != "ComponentType":
                raise self.fail(ct, "unsupported element (a RateML model holds ComponentType elements)")
            kind = ct.attrs.get("name", "")
            if kind == "derivatives":
                if derivs is not None:
                    raise self.fail(ct, "a second 'derivatives' component type")
                derivs = ct
            elif "coupling" in kind:
                couplings.append(ct)
            elif kind == "noise":
                if ct.children:
                    raise self.fail(ct.children[0], "the noise component type takes no content")
                noise = True
            else:
                raise self.fail(ct, "unsupported component type (derivatives, coupling..., noise)")
        if derivs is None:
            raise self.fail(self.root, "no ComponentType name=\"derivatives\"")
        return self.model(derivs, couplings, noise)

    def model(self, ct: Element, coupling_types: list[Element], noise: bool) -> ModelSpec:
        params: dict[str, Param] = {}
        derived: list[tuple[str, Node, Element]] = []
        exposures: list[tuple[str, Node]] = []
        dynamics = None
        swept: list[Element] = []
        coupling_domain = None
        nsig = None
        for el in ct.children:
            nm = el.attrs.get("name", "")
            if el.tag == "Constant":
                self.constant(el, params)
            elif el.tag == "Parameter":
                swept.append(el)
            elif el.tag == "DerivedParameter":
                node = self.parse(el, "value", alt="expression")
                if nm == "nsig":
                    nsig = node
                derived.append((nm, node, el))
            elif el.tag == "Exposure":
                exposures.append((nm, self.parse(el, "name")))  # type: ignore[arg-type]
            elif el.tag == "Dynamics":
                if dynamics is not None:
                    raise self.fail(el, "a second Dynamics element")
                dynamics = el
            else:
                raise self.fail(el, "unsupported element in the derivatives component type")
        for el in swept:
            nm = el.attrs.get("name", "")
            rng = self.pair(el, "dimension", none_is=None)
            dom = rng if rng is not None and rng[0] < rng[1] else None
            if nm == "global_coupling":
                coupling_domain = dom
            elif nm == "global_speed":
                continue
            elif nm in params:
                params[nm] = replace(params[nm], domain=dom or params[nm].domain)
            else:
                self.check_name(el, nm)
                default = (rng[0] + rng[1]) / 2 if rng else 0.0
                params[nm] = Param(nm, default, dom, el.line)
        if dynamics is None:
            raise self.fail(ct, "no Dynamics element")
        svs, ranges, bounds, assigns_el, tds = self.dynamics(dynamics)
        for nm in svs:
            if nm in params:
                raise self.fail(dynamics, f"{nm!r} is both a state variable and a constant")
        # coupling component types: their constants are parameters too
        coupling_parts = []
        for cpt in coupling_types:
            part = self.coupling_type(cpt, svs, params)
            coupling_parts.append(part)
        cnames = {c[0] for c in coupling_parts}
        # names each expression may read
        base = {*params, *RESERVED, "pi", "inf"}
        derived_out: list[tuple[str, Node]] = []
        known_derived: set[str] = set()
        for nm, node, el in derived:
            self.check_name(el, nm)
            if nm in params or nm in known_derived or nm in svs:
                raise self.fail(el, f"{nm!r} is already defined")
            self.check_reads(el, node, base | known_derived)
            known_derived.add(nm)
            derived_out.append((nm, self.reserved(node)))
        scope = base | known_derived | set(svs) | cnames
        assigns: list[Assign] = []
        for el in assigns_el:
            nm = el.attrs.get("name", "")
            self.check_name(el, nm)
            if nm in scope:
                raise self.fail(el, f"{nm!r} is already defined")
            if el.tag == "DerivedVariable":
                node = self.parse(el, "value")
                self.check_reads(el, node, scope)
                assigns.append(Assign(nm, ((None, self.reserved(node)),), el.line))  # type: ignore[arg-type]
            else:
                assigns.append(self.conditional(el, scope))
            scope = scope | {nm}
        derivatives: dict[str, Node] = {}
        for el in tds:
            var = el.attrs.get("variable", "")
            target = var[1:] if var.startswith("d") and var[1:] in svs else None
            if target is None:
                raise self.fail(el, f"variable {var!r} is not d<state variable> (state variables: {', '.join(svs)})")
            if target in derivatives:
                raise self.fail(el, f"a second time derivative of {target!r}")
            node = self.parse(el, "value")
            self.check_reads(el, node, scope)
            derivatives[target] = self.reserved(node)  # type: ignore[arg-type]
        missing = [s for s in svs if s not in derivatives]
        if missing:
            raise self.fail(dynamics, f"no TimeDerivative for {', '.join(missing)}")
        couplings = [self.finish_coupling(part, svs, base | known_derived) for part in coupling_parts]
        observables = [(s, Name(s)) for s in svs]
        for nm, node in exposures:
            if nm in svs:
                continue
            bad = expr.names(node) - set(svs)
            if bad:
                raise self.fail(ct, f"Exposure {nm!r} reads {sorted(bad)}: exposures are state variables or expressions of them")
            observables.append((nm, node))
        lo = tuple(b[0] for b in bounds)
        hi = tuple(b[1] for b in bounds)
        return ModelSpec(
            name=self.name, source=self.source, state_variables=tuple(svs), initial_range=tuple(ranges),
            lower=lo, upper=hi, params=tuple(params.values()), derived=tuple(derived_out),
            assigns=tuple(assigns), derivatives=tuple(derivatives[s] for s in svs),
            couplings=tuple(couplings), observables=tuple(observables), noise=noise,
            nsig=self.reserved(nsig) if nsig is not None else None, coupling_domain=coupling_domain)

    def constant(self, el: Element, params: dict[str, Param]) -> None:
        """Add a Constant to ``params``; a repeated Constant with the same value and domain is
        accepted (RateML's rwongwang.xml repeats J_NMDA), a conflicting one is an error."""
        nm = el.attrs.get("name", "")
        value = el.attrs.get("value", el.attrs.get("default"))
        if value is None:
            raise self.fail(el, "missing 'value'")
        if value.strip().startswith("["):
            raise self.fail(el, "array values are not supported (one number per Constant)")
        param = Param(nm, self.number(el, value, "value"), self.domain(el), el.line)
        if nm in params and (params[nm].default, params[nm].domain) == (param.default, param.domain):
            return
        self.check_new(el, nm, params)
        params[nm] = param

    def dynamics(self, dyn: Element):
        svs: list[str] = []
        ranges, bounds, assigns, tds = [], [], [], []
        for el in dyn.children:
            if el.tag == "StateVariable":
                nm = el.attrs.get("name", "")
                self.check_name(el, nm)
                if nm in svs:
                    raise self.fail(el, f"a second state variable {nm!r}")
                svs.append(nm)
                rng = self.pair(el, "dimension", none_is=(0.0, 0.0))
                ranges.append(tuple(sorted(rng)))  # type: ignore[arg-type]
                b = self.pair(el, "exposure", none_is=(-np.inf, np.inf))
                if b[0] > b[1]:  # type: ignore[index]
                    raise self.fail(el, f"bounds {b} are empty")
                bounds.append(b)
            elif el.tag in ("DerivedVariable", "ConditionalDerivedVariable"):
                assigns.append(el)
            elif el.tag == "TimeDerivative":
                tds.append(el)
            else:
                raise self.fail(el, "unsupported element in Dynamics")
        if not svs:
            raise self.fail(dyn, "no StateVariable")
        return svs, ranges, bounds, assigns, tds

    def conditional(self, el: Element, scope: set[str]) -> Assign:
        cases: list[tuple[Node | None, Node]] = []
        for case in el.children:
            if case.tag != "Case":
                raise self.fail(case, "unsupported element in ConditionalDerivedVariable (Case)")
            cond_text = (case.attrs.get("condition") or "").strip()
            cond = None if cond_text in ("", "else") else self.parse(case, "condition")
            if cases and cases[-1][0] is None:
                raise self.fail(case, "a Case after the 'else' case")
            value = self.parse(case, "value")
            for node in (cond, value):
                if node is not None:
                    self.check_reads(case, node, scope)
            cases.append((self.reserved(cond) if cond is not None else None, self.reserved(value)))  # type: ignore[arg-type]
        if not cases:
            raise self.fail(el, "no Case")
        return Assign(el.attrs.get("name", ""), tuple(cases), el.line)

    def coupling_type(self, ct: Element, svs: list[str], params: dict[str, Param]):
        pre_param, result, pre, post = None, None, None, None
        for el in ct.children:
            nm = el.attrs.get("name", "")
            if el.tag == "Parameter":
                if pre_param is not None:
                    raise self.fail(el, "a second Parameter (one presynaptic state variable per coupling type)")
                dim = (el.attrs.get("dimension") or "").strip()
                idx = svs.index(dim) if dim in svs else int(dim) if dim.isdigit() else -1
                if not 0 <= idx < len(svs):
                    raise self.fail(el, f"dimension {dim!r} is not a state variable (0..{len(svs) - 1} or a name)")
                self.check_name(el, nm)
                pre_param = (nm, idx)
            elif el.tag == "DerivedParameter":
                if result is not None:
                    raise self.fail(el, "a second DerivedParameter (one result per coupling type)")
                self.check_name(el, nm)
                result = (nm, self.parse(el, "value", alt="expression", required=False), el)
            elif el.tag == "Constant":
                self.constant(el, params)
            elif el.tag == "Dynamics":
                for dv in el.children:
                    which = dv.attrs.get("name")
                    if dv.tag != "DerivedVariable" or which not in ("pre", "post"):
                        raise self.fail(dv, "a coupling's Dynamics holds DerivedVariable 'pre' and 'post' only")
                    node = self.parse(dv, "value", required=False)
                    if which == "pre":
                        pre = (node, dv)
                    else:
                        post = (node, dv)
            elif el.tag == "Requirement":
                continue
            else:
                raise self.fail(el, "unsupported element in a coupling component type")
        if result is None:
            raise self.fail(ct, "no DerivedParameter naming the coupling's result (e.g. c_pop0)")
        return result[0], ct, pre_param, pre, post, result

    def finish_coupling(self, part, svs: list[str], scope: set[str]) -> Coupling:
        name, ct, pre_param, pre, post, (_, scale, res_el) = part
        pre_node = pre[0] if pre else None
        post_node = post[0] if post else None
        if pre_param is None:
            if pre_node is not None or post_node is not None:
                raise self.fail(ct, "pre/post without a Parameter naming the presynaptic state variable")
            return Coupling(name, None, "", Num(0.0), Num(0.0), ct.line)
        xj, src = pre_param
        local = scope | set(svs)
        if pre_node is None:
            pre_node = Name(xj)
        self.check_reads(pre[1] if pre else ct, pre_node, local | {xj})
        if post_node is not None:
            self.check_reads(post[1], post_node, local | {xj})
            if xj in expr.names(post_node):     # post depends on node j: part of the sum's term
                pre_node, post_node = Bin("*", post_node, pre_node), None
            elif post_node == Num(1.0, True) or post_node == Num(1.0):
                post_node = None
        if scale is not None:
            self.check_reads(res_el, scale, local)
        total: Node = Name(SUM) if post_node is None else Bin("*", post_node, Name(SUM))
        if scale is not None:
            total = Bin("*", total, scale)
        return Coupling(name, src, xj, self.reserved(pre_node), self.reserved(total), ct.line)

    # -- checks ----------------------------------------------------------------------------
    def check_name(self, el: Element, nm: str) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", nm or ""):
            raise self.fail(el, f"name {nm!r} is not an identifier")
        if nm in expr.CONSTANTS or nm in expr.FUNCTIONS or nm in ("and", "or", "not"):
            raise self.fail(el, f"name {nm!r} is reserved")

    def check_new(self, el: Element, nm: str, params: Mapping[str, Param]) -> None:
        self.check_name(el, nm)
        if nm in params or nm in RESERVED:
            raise self.fail(el, f"{nm!r} is already defined")

    def check_reads(self, el: Element, node: Node, scope: Iterable[str]) -> None:
        unknown = sorted(expr.names(node) - set(scope))
        if unknown:
            raise self.fail(el, f"unknown name(s) {', '.join(map(repr, unknown))}")

    @staticmethod
    def reserved(node: Node) -> Node:
        return expr.substitute(node, {k: Name(v) for k, v in RESERVED.items()})


# -- finding models ----------------------------------------------------------------------------
def rateml_dir() -> Path:
    """``tvb/contrib/rateML/XMLmodels`` of the installed tvb-contrib."""
    try:
        spec = importlib.util.find_spec("tvb.contrib.rateML")
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("rateml: models need tvb-contrib (pip install 'l2l-tvb[rateml]')")
    return Path(list(spec.submodule_search_locations)[0]) / "XMLmodels"


def builtin_models() -> tuple[str, ...]:
    """TVB class names with an XML description shipped in l2l-tvb."""
    return tuple(sorted(p.stem for p in MODELS_DIR.glob("*.xml")))


def rateml_models() -> tuple[str, ...]:
    """Names of tvb-contrib's RateML models (``rateml:<name>``), the template excepted."""
    return tuple(sorted(p.stem for p in rateml_dir().glob("*.xml") if p.stem != "model_template"))


def model_path(model: str) -> tuple[Path, str]:
    """(XML file, model name) of ``model``: a built-in TVB class name, ``rateml:<name>`` or a
    path to an XML file."""
    if model.startswith("rateml:"):
        name = model[len("rateml:"):]
        path = rateml_dir() / f"{name}.xml"
        if not path.is_file():
            raise ConfigError(f"rateml: no model {name!r} in {rateml_dir()} (have: {', '.join(rateml_models())})")
        return path, model
    if model.endswith(".xml") or os.sep in model or "/" in model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise ConfigError(f"RateML model file {model!r} does not exist")
        return path, path.stem
    path = MODELS_DIR / f"{model}.xml"
    if not path.is_file():
        raise ConfigError(f"batched engine: model {model!r} is not supported (built in: {', '.join(builtin_models())}; "
                          f"'rateml:<name>' for tvb-contrib's RateML models, a path to a RateML .xml file, or "
                          f"engine = 'tvb' for any TVB model)")
    return path, model


def load_model(model: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``model`` (see :func:`model_path`)."""
    path, name = model_path(model)
    text = path.read_text()
    spec = _from_text(text, str(path), name)
    if path.parent == MODELS_DIR:
        spec = replace(spec, default_coupling="Linear")
    return spec


@lru_cache(maxsize=64)
def _from_text(text: str, source: str, name: str) -> ModelSpec:
    return _Reader(read_xml(text, source), source, name).build()


def model_from_xml(text: str, name: str = "model", source: str = "<string>") -> ModelSpec:
    """The :class:`ModelSpec` of RateML XML ``text``."""
    return _from_text(text, source, name)
