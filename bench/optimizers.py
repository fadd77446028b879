"""l2l's optimizers against pycma, nevergrad, optuna and the ``cmaes`` library on COCO's ``bbob``
suite (the optimization field's standard benchmark), reported as COCO does.

Every method runs on the 24 noiseless ``bbob`` functions through ``cocoex`` (package
``coco-experiment``), in dimensions 5, 10 and 20, instances 1-3 (``--instances``; the
results: 1-6 where they ran), for 1000·d evaluations (an "anytime" method's 100·d figure is
the first 100·d evaluations of that run; a method told its budget — ``auto``, nevergrad —
runs separately at 100·d). Quality is COCO's:
the fraction of the 51 targets ``f - f_opt <= 10^k``, ``k`` = 2, 1.8, ..., -8, reached within
the budget, averaged over functions, instances and targets, per function group (separable
f1-5; low/moderate conditioning f6-9; high conditioning f10-14; multimodal with adequate global
structure f15-19; with weak global structure f20-24), and as an ECDF over evaluations / d
(``bench/results/optimizers.png``). "± SE" is the standard error over the instances (each
instance's aggregate over the 24 functions is one sample).

Our optimizers are driven directly through ``start(Problem)`` / ``ask_vectors`` / ``Space.bound``
/ ``tell_losses`` (the :class:`l2l.VectorOptimizer` interface without the dict conversion) on a
``Space`` with the problem's bounds [-5, 5]^d, with registered defaults unless a method is
written ``name:key=value,...`` (e.g. ``cmaes:restarts=ipop``). Peers run in their best
documented configuration: pycma (``cma.fmin2``, x0 a callable as in COCO's example
experiments: the centre of the box for the first run, as ours, and uniform in [-4, 4]^d for
each restart; sigma0 = 2; the bounds [-5, 5]^d as ours; without restarts / IPOP with 9
restarts / BIPOP), nevergrad ``CMA``, ``TwoPointsDE``, ``NGOpt`` (told the budget), optuna's
``CmaEsSampler`` (limited to 100·d at d = 5 and 10: its per-trial cost grows with the trials),
and the ``cmaes`` library with its IPOP restart recipe. Which of them ran where is in the
tables ("not run" where a session did not get to it) and in the list of sessions at the end
of the results.

Runs are cached ($L2L_BENCH_CACHE, default /tmp/l2l-bench-optimizers-bbob.json), keyed by
method, problem, budget and the code version (ours: a hash of ``l2l/optimizers``; peers: the
package version and a tag for how the bench calls them, ``SETUP``), so the full bench
accumulates over several invocations and a changed optimizer is rerun. Each finished run (one
method on one function, dimension and instance) reaches the cache within 10 s, so an
invocation that is cut off (a long peer, a timeout) loses only the runs in progress: run the
same command again to resume, or ``--merge`` a cache filled elsewhere. Runs are niced and
spread over at most 2 processes::

    python bench/optimizers.py --quick            # ~5 min of 2 cores: d = 5, 20; instance 1
    python bench/optimizers.py                    # everything (run it several times if cut off)
    python bench/optimizers.py --methods cmaes,pycma-ipop --dims 20
    python bench/optimizers.py --methods ngopt --dims 20 --factors 100   # NGOpt at 100·d only
    python bench/optimizers.py --report           # tables -> bench/results/optimizers.md

Install the peers with ``pip install -r bench/requirements-optimizers.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import summary  # noqa: E402
from machine import Machine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path(os.environ.get("L2L_BENCH_CACHE", "/tmp/l2l-bench-optimizers-bbob.json"))
TARGETS = 10.0 ** np.linspace(2, -8, 51)
DIMS = (5, 10, 20)
FUNCTIONS = tuple(range(1, 25))
GROUPS = {"separable f1-5": range(1, 6), "moderate f6-9": range(6, 10),
          "ill-conditioned f10-14": range(10, 15), "multimodal f15-19": range(15, 20),
          "weak structure f20-24": range(20, 25)}
OURS = ("random", "ga", "ce", "face", "es", "nes", "nes:variant=snes", "gd", "sa", "pt", "cmaes",
        "cmaes:restarts=ipop", "auto")
PEERS = ("pycma", "pycma-ipop", "pycma-bipop", "cmaes-lib", "ng-cma", "ng-de", "ngopt",
         "optuna-cma")
QUICK = ("random", "ga", "ce", "face", "es", "nes", "gd", "sa", "pt", "cmaes", "auto",
         "pycma-ipop")
LABELS = {"pycma": "pycma (no restarts)", "pycma-ipop": "pycma IPOP", "pycma-bipop": "pycma BIPOP",
          "cmaes-lib": "cmaes lib (IPOP)", "ng-cma": "nevergrad CMA", "ng-de": "nevergrad TwoPointsDE",
          "ngopt": "nevergrad NGOpt", "optuna-cma": "optuna CmaEsSampler"}
PACKAGES = {"pycma": "cma", "pycma-ipop": "cma", "pycma-bipop": "cma", "cmaes-lib": "cmaes",
            "ng-cma": "nevergrad", "ng-de": "nevergrad", "ngopt": "nevergrad",
            "optuna-cma": "optuna"}
#: a tag for how the bench calls a peer, changed when that changes (so its runs are redone):
#: "+x0c" = pycma's x0 is the centre, then a fresh uniform point at each restart (before: one
#: uniform point in [-4, 4]^d for the first run and every restart)
SETUP = {"pycma": "+x0c", "pycma-ipop": "+x0c", "pycma-bipop": "+x0c"}
#: methods that are told the budget, hence run separately at each budget
BUDGETED = ("auto", "ng-cma", "ng-de", "ngopt", "optuna-cma")
#: (budget factors, dims) a peer is limited to, and why
LIMITS = {"optuna-cma": ((100,), (5, 10), "optuna's per-trial cost grows with the number of trials "
                         "(~10 ms per trial after 1,000 trials): limited to 100·d at d = 5 and 10")}

#: changes to ``cmaes`` tried against pycma IPOP, kept or not, with their paired bench figures
#: (difference in targets reached, mean ± SE over instances, same seeds; written by hand from
#: runs of this script on a separate cache, one variant at a time)
TRIED = (
    "Already there: negative recombination weights (active CMA, Hansen 2016 defaults), "
    "pycma's termination set (tolfun, tolx, conditioncov, noeffectaxis/coord, tolupsigma, "
    "stagnation, maxiter). The core update is as fast as pycma's: evaluations to 1e-8 from the "
    "centre, sigma0 = 2, 12 seeds, ours vs pycma: sphere 743 ± 14 vs 732 ± 17 (d = 5), 1553 ± "
    "27 vs 1533 ± 24 (d = 10); rotated ellipsoid 1557 ± 40 vs 1601 ± 78, cigar 1745 ± 36 vs "
    "2027 ± 159 (d = 5). The losses to pycma are in restarts, termination and the bounds.",
    "Kept — restart on flat fitness (pycma's tolflatfitness: the best value shared by 3/4 of "
    "the population for two generations) instead of widening the step, which kept the run "
    "hopping between plateaus of the step ellipsoid f7: f7 +0.25 of its targets at d = 10 "
    "(instances 1-6; the d = 10 aggregate +0.010 ± 0.006 at 1000·d, all other functions "
    "unchanged), +0.31 at d = 20.",
    "Kept — BIPOP accounting as pycma: the first run counts as a small one, so a doubled "
    "population runs second, and a small run gets half of all large-run evaluations (was: "
    "half of the last one). With the flat-fitness rule, against the former code at 1000·d: "
    "+0.022 ± 0.014 (d = 5), +0.022 ± 0.012 (d = 10), instances 1-6, +0.017 ± 0.014 (d = 20, "
    "instances 1-3): +0.020 ± 0.008 over the three, 2.6 SE (f3 and the multimodal f16-f18 "
    "gain from the earlier large population, the weakly structured f21/f22 lose a little); "
    "the BIPOP part alone +0.022 ± 0.014 / +0.012 ± "
    "0.015 (d = 5 / 10).",
    "Not kept as the default — initial step 0.15 of each range instead of 0.2 (pycma in this "
    "bench starts at 2 = 0.2): at 100·d +0.006 ± 0.008 / +0.010 ± 0.006 / +0.009 ± 0.004 "
    "(d = 5 / 10 / 20, instances 1-12; 2.3 SE over the three, mostly f21), at 1000·d level "
    "(+0.002 ± 0.007 at d = 5, +0.023 ± 0.028 at d = 10, instances 1-6): `auto` used it at "
    "budgets up to 100·d until session 4 (below). 0.1 of each range: +0.007 ± 0.012 / "
    "-0.000 ± 0.005 / +0.008 ± 0.004 at 100·d (instances 1-6), not better than 0.15.",
    "Tried and dropped in an earlier session: pycma-style linear-quadratic bands at the bounds "
    "instead of mirroring (+0.006 ± 0.005 at 100·d, instances 1-6; see docs/optimizers.md).",
    "Kept (session 4) — samples outside the box clipped onto it and ranked with an adaptive "
    "bound penalty (Hansen et al. 2009, pycma's BoundPenalty) instead of mirrored: the linear "
    "slope f5 is now solved within 100·d at every d (was 0.30 of its targets at d = 20). "
    "Against the mirroring code, paired: at 100·d +0.045 ± 0.010 (d = 5), +0.039 ± 0.009 "
    "(d = 10), instances 1-6, +0.042 ± 0.004 (d = 20, instances 1-3), 4-11 SE; at 1000·d "
    "+0.007 ± 0.012 / +0.016 ± 0.011 / +0.001 ± 0.020 (level).",
    "Changed in the bench (session 4): pycma is now called as COCO's example experiments call "
    "it, x0 the centre for the first run and a fresh uniform point in [-4, 4]^d at each "
    "restart (it used one uniform point for every run). pycma IPOP gained +0.019 ± 0.004 / "
    "+0.020 ± 0.004 / +0.002 ± 0.003 at 100·d and -0.017 ± 0.037 / +0.026 ± 0.043 / +0.081 ± "
    "0.051 at 1000·d (d = 5 / 10 / 20, instances 1-3), so the ratios below are against a "
    "stronger pycma than the earlier sessions' 1.04 / 0.99 / 1.16.",
    "Dropped (session 4) — pycma's stagnation window (100 + 100 d^1.5 / lambda generations "
    "instead of 120 + 30 d / lambda): 1000·d -0.004 ± 0.005 (d = 5), -0.000 ± 0.001 (d = 10), "
    "instances 1-6.",
    "Dropped (session 4) — NBIPOP-style budget (Loshchilov et al. 2012): the regime that found "
    "the best value so far gets twice the evaluations of the other: 1000·d +0.005 ± 0.005 "
    "(d = 5), +0.002 ± 0.003 (d = 10), instances 1-6 (1 SE).",
    "Not changed (session 4) — IPOP instead of BIPOP: 1000·d +0.005 ± 0.005 (d = 5), +0.002 ± "
    "0.005 (d = 10), instances 1-6: level, BIPOP stays (earlier sessions' evidence).",
    "Dropped (session 4) — a random first start point (``x0 = \"random\"``, uniform in the "
    "box) instead of the centre: 100·d -0.019 ± 0.007 (d = 5), -0.009 ± 0.014 (d = 10); "
    "1000·d -0.020 ± 0.015 / -0.002 ± 0.014, instances 1-6.",
    "Not kept (session 4) — ending a converged run early when its best values and population "
    "lie within 1/100 (1/10) of its gap to the best value of the earlier runs (more restarts "
    "for the same budget): 1000·d +0.012 ± 0.010 / +0.0005 ± 0.0007 (+0.011 ± 0.006 / +0.002 "
    "± 0.001) at d = 5 / 10, instances 1-6: positive, below 2 SE.",
    "Checked (session 4) — the bound penalty on the suite's variants, d = 5, instances 1-3, "
    "against mirroring: bbob-mixint +0.032 ± 0.018 at 100·d, -0.022 ± 0.051 at 1000·d; "
    "bbob-noise (auto's IPOP, population 32) +0.012 ± 0.036 at 1000·d: level.",
    "`auto` (session 4): its small-budget step (sigma 0.15 up to 100·d, +0.008 ± 0.004 while "
    "cmaes mirrored) is level with the default since the bound penalty (+0.001 ± 0.006 at "
    "100·d over d = 5, 10, 20, instances 1-6; it slows the slope f5): removed.",
    "Found (session 5) — why pycma IPOP solves the step ellipsoid f7 at d = 20 (0.95 of its "
    "targets vs 0.38): not its restart points or populations but its step-size damping. "
    "pycma 4.5 damps CSA by 1 + 2 max(0, k_d sqrt((mu_eff - 1) / (d + 1)) - 1) + c_sigma "
    "with k_d = max(1, 3 (1 - 2^(-d/9))) (1 at d = 5, 1.6 at d = 10, 2.4 at d = 20); the "
    "tutorial's k_d = 1 gave 1.40 instead of 3.03 for lambda = 48 at d = 20, whose step was "
    "then 0.15 instead of 0.99 after 80 generations and ended on a plateau (flat fitness).",
    "Kept (session 5) — pycma 4.5's damping (``damping = \"pycma\"``, the default; "
    "``\"tutorial\"`` is the former rule): at 1000·d +0.021 ± 0.007 (d = 20, f7 0.38 -> 0.79), "
    "+0.007 ± 0.006 (d = 10), +0.000 (d = 5, identical runs), instances 1-6: +0.009 ± 0.003 "
    "over the three, 3.1 SE, no function group worse; 100·d identical (the default population "
    "is below the threshold).",
    "Found (session 5) — the cmaes library's f21 (Gallagher 101) at d = 20 (1.00 on instance "
    "1) is that instance: over instances 1-6 it reaches 1.00 / 0.14 / 0.14 / 0.22 / 0.18 / "
    "0.20 (mean 0.31; pycma IPOP 0.19, l2l cmaes 0.17 before, 0.32 with the damping above, "
    "which solves instance 1 too). The library has no flat-fitness or stagnation stop "
    "(tolfun over 10 + 30 d / lambda generations, tolx, conditioncov, noeffect): no recipe "
    "to copy for f21.",
    "Dropped (session 5) — pycma 4.5's c_sigma ((mu_eff + 2) / (d + mu_eff + 3) instead of "
    "the tutorial's + 5) with its damping, against the damping alone: 1000·d -0.017 ± 0.017 / "
    "-0.016 ± 0.011 / -0.023 ± 0.011 (d = 5 / 10 / 20), -0.019 ± 0.008 over the three; "
    "100·d -0.006 ± 0.004.",
    "Not changed (session 5) — IPOP instead of BIPOP, both with the damping: 1000·d +0.005 ± "
    "0.005 / -0.007 ± 0.006 / +0.002 ± 0.005 (d = 5 / 10 / 20; f7 at d = 20 +0.21, f21 and "
    "f23 -0.09 / -0.07), +0.000 ± 0.003 over the three, instances 1-6.",
    "Dropped (session 5) — a stronger damping, k_d = 3 at every d: 1000·d -0.002 ± 0.011 / "
    "-0.019 ± 0.020 / -0.040 ± 0.013 (d = 5 / 10 / 20), 100·d -0.021 ± 0.005 over the three "
    "(at d = 20 it slows the default population too).",
    "Dropped (session 5) — a broader initial step, sigma 0.3 of each range instead of 0.2 "
    "(the 'broad spread' the cmaes library's f21 seemed to call for): 1000·d +0.002 ± 0.021 "
    "/ -0.011 ± 0.009 / -0.009 ± 0.008 (d = 5 / 10 / 20; f21 -0.24 / -0.15 at d = 10 / 20), "
    "100·d -0.008 ± 0.005 over the three.",
    "Dropped (session 5) — the population factor of the large runs (``incpopsize``) 3 or "
    "1.5 instead of 2, with the damping: 1000·d -0.014 ± 0.009 / -0.012 ± 0.007 / -0.015 ± "
    "0.007 (3) and -0.024 ± 0.012 / -0.019 ± 0.007 / -0.027 ± 0.007 (1.5) at d = 5 / 10 / 20; "
    "-0.014 ± 0.005 and -0.023 ± 0.005 over the three (f7 and f16-f18 lose); 100·d identical.",
    "Kept (session 6) — a separable start (``separable_probe = \"auto\"``, now the default; "
    "l2l/optimizers/separable.py): coordinate-wise interval division after STEP (as "
    "BIPOP-aCMA-STEP / HCMA, Loshchilov et al. 2013) with parabolic local steps, for at most "
    "300·d evaluations, ended by the first failed separability check (the point combining the "
    "coordinate-wise improvements must have the predicted value), after which CMA-ES starts as "
    "it would have without it. Against the session-5 code, paired over instances 1-6: 1000·d "
    "+0.067 ± 0.005 / +0.068 ± 0.005 / +0.092 ± 0.008 (d = 5 / 10 / 20), +0.076 ± 0.004 over "
    "the three (20.6 SE): f3 +0.84 / +0.88 / +0.93 and f4 +0.83 / +0.80 / +0.89 of their "
    "targets, separable group +0.33 / +0.34 / +0.36, every other group within 1 SE of level "
    "(largest losses: f20-24 -0.022 ± 0.022 at d = 5, f6-9 -0.025 ± 0.025 at d = 10; the "
    "multimodal f15-19 gain +0.010 / +0.015 / +0.024, 2-6 SE, mostly f19). 100·d +0.081 ± "
    "0.006 / +0.092 ± 0.008 / +0.074 ± 0.005 (f1 +0.25-0.28, f2 +0.97-1.00, f3 +0.30-0.63): "
    "+0.082 ± 0.004 over the three; the probe's evaluations before its first check (16-48 "
    "mostly, at most 16 d) cost the ill-conditioned group f10-14 -0.010 ± 0.003 at d = 5 and "
    "-0.003 ± 0.002 at d = 10, f6-9 -0.006 ± 0.003 at d = 20 (100·d). Command: "
    "L2L_BENCH_CACHE=exp.json python bench/optimizers.py --processes 2 --methods cmaes --dims "
    "20,10,5 --instances 1,2,3,4,5,6 (then --merge into the bench cache).",
    "Dropped (session 6) — the same probe handing over to CMA-ES at its best point also after a "
    "failed check (the first candidate): 1000·d +0.058 ± 0.016 / +0.054 ± 0.020 / +0.074 ± "
    "0.010 against the session-5 code, but f6-9 at d = 10 -0.10 ± 0.05 (f9 -0.27, f8 -0.14: "
    "a start at the best of a few coordinate-perturbed points led the rotated Rosenbrock into "
    "its local optimum); against the kept rule -0.014 ± 0.009 at 1000·d over the three (1.6 "
    "SE), +0.004 ± 0.003 at 100·d.",
    "Dropped (session 6) — a probe budget of 100·d instead of 300·d, run on f1-f5 only (the "
    "probe ends before 100·d evaluations on every non-separable function, instances 1-6, so "
    "f6-f24 are the same runs): 1000·d -0.043 ± 0.007 / -0.043 ± 0.008 / -0.061 ± 0.005 of "
    "all targets (d = 5 / 10 / 20; f3 -0.30 / -0.31 / -0.66, f4 -0.73 / -0.72 / -0.81), 100·d "
    "identical.",
)


def split_suite(method: str) -> tuple[str, str]:
    """``"bbob-mixint/cmaes"`` -> ("bbob-mixint", "cmaes"); no prefix: bbob."""
    suite, _, name = method.rpartition("/")
    return suite or "bbob", name


def label(method: str) -> str:
    suite, name = split_suite(method)
    text = LABELS.get(name, f"l2l {name}")
    return text if suite == "bbob" else f"{text} [{suite}]"


def base(method: str) -> str:
    return split_suite(method)[1].split(":")[0]


def kwargs_of(method: str) -> dict[str, Any]:
    """``name:key=value,...`` -> keyword arguments (values parsed as JSON, else strings)."""
    method = split_suite(method)[1]
    if ":" not in method:
        return {}
    out = {}
    for item in method.split(":", 1)[1].split(","):
        key, _, text = item.partition("=")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


def _source_files(module: Any, seen: set[str]) -> None:
    """The files of ``module`` and of the ``l2l.optimizers`` modules it uses, recursively."""
    import inspect

    if module.__file__ in seen:
        return
    seen.add(module.__file__)
    for value in vars(module).values():
        used = inspect.getmodule(value)
        if used is not None and used.__name__.startswith("l2l.optimizers"):
            _source_files(used, seen)


def _code_only(source: str) -> str:
    """The module's syntax tree without docstrings (comments are not in it): documenting an
    optimizer does not rerun it."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def code_version(method: str) -> str:
    """Ours: a hash of the optimizer's module and the l2l.optimizers modules it uses (``auto``:
    all of them), so changing one optimizer reruns only its rows; peers: the package version."""
    method = split_suite(method)[1]
    if base(method) in {base(m) for m in OURS}:
        import l2l.optimizers
        from l2l import get_plugins

        folder = Path(l2l.optimizers.__file__).parent
        if base(method) == "auto":
            files = set(map(str, folder.glob("*.py")))
        else:
            files: set[str] = set()
            cls = get_plugins().get("optimizers", base(method))
            _source_files(sys.modules[cls.__module__], files)
        digest = hashlib.sha1()
        for path in sorted(files):
            digest.update(_code_only(Path(path).read_text()).encode())
        return digest.hexdigest()[:10]
    import importlib.metadata as md

    try:
        return md.version(PACKAGES[method]) + SETUP.get(method, "")
    except md.PackageNotFoundError:
        return "absent"


# -- one run --------------------------------------------------------------------------------
_PROBLEMS: dict[tuple[str, int, int, int], Any] = {}
#: the suites: COCO's bbob, its mixed-integer variant, and bbob with multiplicative Gaussian
#: noise applied by this script (``NOISE``), judged on the noise-free values
SUITES = ("bbob", "bbob-mixint", "bbob-noise")
NOISE = 1.0


def coco_problem(suite_name: str, f: int, d: int, i: int) -> tuple[Any, float]:
    """The cocoex problem and its optimal value (evaluated at the optimum cocoex reports)."""
    import cocoex

    key = (suite_name, f, d, i)
    if key not in _PROBLEMS:
        name = "bbob-mixint" if suite_name == "bbob-mixint" else "bbob"
        suite = cocoex.Suite(name, f"instances:{i}", f"dimensions:{d} function_indices:{f}")
        problem = suite.get_problem_by_function_dimension_instance(f, d, i)
        with tempfile.TemporaryDirectory() as tmp:
            here = os.getcwd()
            os.chdir(tmp)
            try:
                problem._best_parameter("print")
                xopt = np.loadtxt("._bbob_problem_best_parameter.txt")
            finally:
                os.chdir(here)
        _PROBLEMS[key] = (problem, float(problem(xopt)), suite)
    problem, fopt, _ = _PROBLEMS[key]
    return problem, fopt


class Budget(Exception):
    """Raised inside a peer's objective when the budget is spent."""


class Recorder:
    """The objective handed to a method: records every (noise-free) value, stops at the
    budget. Integer variables (the first ``integers``) are rounded, as ``l2l.Int`` does; with
    ``noise`` the method sees ``f_opt + (f - f_opt) exp(noise N(0, 1))``."""

    def __init__(self, problem: Any, budget: int, fopt: float, integers: int = 0,
                 noise: float = 0.0, seed: int = 0):
        self.problem, self.budget, self.values = problem, budget, []
        self.fopt, self.integers, self.noise = fopt, integers, noise
        self.rng = np.random.default_rng([seed, 7])

    def __call__(self, x: Any) -> float:
        if len(self.values) >= self.budget:
            raise Budget
        x = np.array(x, dtype=float)
        x[:self.integers] = np.rint(x[:self.integers])
        value = float(self.problem(x))
        self.values.append(value)
        if self.noise:
            return self.fopt + (value - self.fopt) * float(np.exp(self.noise * self.rng.normal()))
        return value


def run_ours(method: str, rec: Recorder, d: int, seed: int) -> None:
    from l2l import Evaluation, Float, Int, Objectives, Problem, Space, build

    kwargs = kwargs_of(method)
    if base(method) == "auto":
        kwargs.setdefault("budget", rec.budget)
        kwargs.setdefault("noisy", bool(rec.noise))
    opt = build("optimizer", base(method), **kwargs)
    low, high = rec.problem.lower_bounds, rec.problem.upper_bounds
    space = Space([*(Int(f"i{k}", low[k], high[k]) for k in range(rec.integers)),
                   Float("x", -5.0, 5.0, shape=d - rec.integers)])
    opt.start(Problem(space, Objectives(), seed))
    ok = Evaluation(fitness=(0.0,))
    while len(rec.values) < rec.budget:
        vectors = space.bound(np.atleast_2d(opt.ask_vectors()), opt.bounding)
        values = []
        for x in vectors:
            try:
                values.append(rec(x))
            except Budget:
                return
        opt.tell_losses(vectors, np.array(values), [ok] * len(values))


def run_pycma(method: str, rec: Recorder, d: int, seed: int) -> None:
    import cma

    low, high = rec.problem.lower_bounds, rec.problem.upper_bounds
    rng = np.random.default_rng(seed)
    runs = []

    def x0() -> np.ndarray:
        """The centre for the first run, a fresh uniform point in [-4, 4]^d per restart."""
        runs.append(len(rec.values))
        return (low + high) / 2 if len(runs) == 1 else low + (high - low) * rng.uniform(0.1, 0.9, d)

    restarts = {"pycma": 0, "pycma-ipop": 9, "pycma-bipop": 9}[method]
    opts = {"bounds": [list(low), list(high)], "maxfevals": rec.budget, "verbose": -9,
            "seed": seed + 1, "CMA_stds": list((high - low) / 10)}
    try:
        cma.fmin2(rec, x0, 2.0, opts, restarts=restarts, bipop=method == "pycma-bipop")
    except Budget:
        pass


def run_cmaes_lib(rec: Recorder, d: int, seed: int) -> None:
    from cmaes import CMA

    rng = np.random.default_rng(seed)
    bounds = np.stack([rec.problem.lower_bounds, rec.problem.upper_bounds], axis=1)
    popsize = None
    for restart in range(10):
        opt = CMA(mean=rng.uniform(bounds[:, 0] * 0.8, bounds[:, 1] * 0.8), sigma=2.0,
                  bounds=bounds, seed=seed + restart,
                  population_size=popsize)
        popsize = opt.population_size * 2
        while not opt.should_stop():
            xs = [opt.ask() for _ in range(opt.population_size)]
            opt.tell([(x, rec(x)) for x in xs])


def run_nevergrad(method: str, rec: Recorder, d: int, seed: int) -> None:
    import nevergrad as ng

    param = ng.p.Array(shape=(d,), lower=-5.0, upper=5.0)
    param.random_state = np.random.RandomState(seed)
    name = {"ng-cma": "CMA", "ng-de": "TwoPointsDE", "ngopt": "NGOpt"}[method]
    opt = ng.optimizers.registry[name](parametrization=param, budget=rec.budget)
    for _ in range(rec.budget):
        cand = opt.ask()
        opt.tell(cand, rec(cand.value))


def run_optuna(rec: Recorder, d: int, seed: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=seed))
    dists = {f"x{k}": optuna.distributions.FloatDistribution(-5.0, 5.0) for k in range(d)}
    for _ in range(rec.budget):
        trial = study.ask(dists)
        study.tell(trial, rec([trial.params[f"x{k}"] for k in range(d)]))


def one_run(task: tuple[str, int, int, int, int]) -> tuple[tuple, dict]:
    """Run ``method`` (``suite/name`` for a suite other than bbob) on the suite's f``f`` in
    ``d`` dims, instance ``i``, for ``budget`` evaluations: the evaluations at which each
    target was first reached (-1: never)."""
    full, f, d, i, budget = task
    suite, method = split_suite(full)
    warnings.filterwarnings("ignore")
    problem, fopt = coco_problem(suite, f, d, i)
    seed = 10_000 * d + 100 * f + i
    rec = Recorder(problem, budget, fopt, problem.number_of_integer_variables,
                   NOISE if suite == "bbob-noise" else 0.0, seed)
    t0 = time.process_time()
    error = None
    try:
        if method.startswith("pycma"):
            run_pycma(method, rec, d, seed)
        elif method == "cmaes-lib":
            run_cmaes_lib(rec, d, seed)
        elif method.startswith("ng"):
            run_nevergrad(method, rec, d, seed)
        elif method == "optuna-cma":
            run_optuna(rec, d, seed)
        else:
            run_ours(method, rec, d, seed)
    except Budget:
        pass
    except Exception as exc:  # noqa: BLE001 - a failing method is reported, not fatal
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    best = np.minimum.accumulate(np.asarray(rec.values, dtype=float) - fopt) \
        if rec.values else np.array([np.inf])
    reached = best[None, :] <= TARGETS[:, None]
    hits = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, -1)
    return task, {"hits": hits.tolist(), "evals": len(rec.values), "best": float(best[-1]),
                  "cpu_s": round(time.process_time() - t0, 3), "error": error}


# -- the cache and the runs -----------------------------------------------------------------
def key(method: str, f: int, d: int, i: int, budget: int, version: str) -> str:
    return f"{method}|f{f}|d{d}|i{i}|{budget}|{version}"


def load_cache() -> dict:
    return json.loads(CACHE.read_text()) if CACHE.exists() else {"runs": {}, "sessions": []}


def save_cache(cache: dict) -> None:
    """Write the cache, keeping what another invocation added since it was read: under an
    exclusive lock (concurrent invocations take turns), through a temporary file of this
    process, so a reader never sees a half-written file."""
    import fcntl

    with open(CACHE.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = load_cache()
        current["runs"].update(cache["runs"])
        known = {json.dumps(s, sort_keys=True) for s in current["sessions"]}
        current["sessions"] += [s for s in cache["sessions"]
                                if json.dumps(s, sort_keys=True) not in known]
        tmp = CACHE.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(current))
        tmp.replace(CACHE)
    cache.update(current)


def budgets_of(method: str, d: int) -> tuple[int, ...]:
    method = split_suite(method)[1]
    factors = LIMITS.get(method, ((100, 1000), DIMS, ""))[0]
    if base(method) in BUDGETED:
        return tuple(sorted({100 * d, 1000 * d} & {k * d for k in factors}))
    return (max(factors) * d,)


def tasks_for(methods: list[str], dims: list[int], instances: list[int],
              cache: dict, factors: tuple[int, ...] = (100, 1000)) -> list[tuple]:
    """The runs missing from the cache; a method told its budget runs only at ``factors``·d
    (an anytime method always runs at its largest budget)."""
    tasks = []
    for method in methods:
        version = code_version(method)
        for d in dims:
            if d not in LIMITS.get(split_suite(method)[1], ((), DIMS, ""))[1]:
                continue
            for budget in budgets_of(method, d):
                if base(method) in BUDGETED and budget // d not in factors:
                    continue
                for f in FUNCTIONS:
                    for i in instances:
                        if key(method, f, d, i, budget, version) not in cache["runs"]:
                            tasks.append((method, f, d, i, budget))
    # method by method (a cut-off session leaves whole methods), largest budgets first
    return sorted(tasks, key=lambda t: (methods.index(t[0]), -t[4]))


#: the longest a finished run waits in memory before it is written to the cache
SAVE_EVERY_S = 10.0


def _nice() -> None:
    os.nice(10)


def run(methods: list[str], dims: list[int], instances: list[int], processes: int,
        factors: tuple[int, ...] = (100, 1000)) -> None:
    cache = load_cache()
    machine = Machine.measure(["l2l-core", "coco-experiment", "cma", "cmaes", "nevergrad", "optuna"])
    todo = tasks_for(methods, dims, instances, cache, factors)
    versions = {m: code_version(m) for m in methods}
    print(f"{len(todo)} runs to do ({len(methods)} methods, dims {dims}, instances {instances}); "
          f"{processes} processes, niced", flush=True)
    t0 = saved = time.perf_counter()
    done = 0
    with get_context("fork").Pool(processes, initializer=_nice) as pool:
        for task, result in pool.imap_unordered(one_run, todo):
            method, f, d, i, budget = task
            cache["runs"][key(method, f, d, i, budget, versions[method])] = result
            done += 1
            if result["error"] or done % 50 == 0 or done == len(todo):
                print(f"  {done}/{len(todo)} {time.perf_counter() - t0:.0f} s  {label(method)} f{f} "
                      f"d{d} i{i}: {result['error'] or 'ok'}", flush=True)
            # every finished run reaches the cache within SAVE_EVERY_S seconds, so a long
            # session that is cut off resumes (or is merged) where it stopped
            if time.perf_counter() - saved >= SAVE_EVERY_S or done == len(todo):
                save_cache(cache)
                saved = time.perf_counter()
    wall = time.perf_counter() - t0
    cache["sessions"].append({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "methods": methods, "dims": dims, "instances": instances,
                              "runs": len(todo), "wall_s": round(wall, 1),
                              "machine": machine.finish().markdown(),
                              **({} if factors == (100, 1000) else {"factors": list(factors)})})
    save_cache(cache)
    print(f"{len(todo)} runs in {wall:.0f} s", flush=True)


# -- the report -----------------------------------------------------------------------------
def collect(cache: dict, method: str, d: int, budget_factor: int,
            instances: list[int]) -> dict[tuple[int, int], dict] | None:
    """(f, i) -> run record for ``method`` at ``d`` judged at ``budget_factor``·d, over the
    instances whose 24 runs are all in the cache (None if there is none)."""
    version = code_version(method)
    budget = budget_factor * d
    run_budget = budget if base(method) in BUDGETED else max(budgets_of(method, d))
    if budget > run_budget:
        return None
    out = {}
    for i in instances:
        records = {(f, i): cache["runs"].get(key(method, f, d, i, run_budget, version))
                   for f in FUNCTIONS}
        if all(r is not None for r in records.values()):
            out.update(records)
    return out or None


def n_instances(records: dict) -> int:
    return len({i for _, i in records})


def reached(records: dict[tuple[int, int], dict], budget: int) -> np.ndarray:
    """Array (function, instance, target) of reached-within-budget flags."""
    fs = sorted({f for f, _ in records})
    inst = sorted({i for _, i in records})
    hits = np.array([[records[(f, i)]["hits"] for i in inst] for f in fs], dtype=float)
    return (hits > 0) & (hits <= budget)


def only(records: dict, functions: range | tuple) -> dict:
    """The records of ``functions``."""
    return {k: v for k, v in records.items() if k[0] in functions}


def score(records: dict, budget: int, functions: range | tuple = FUNCTIONS) -> tuple[float, float]:
    """Fraction of targets reached, mean and SE over instances."""
    flags = reached(only(records, functions), budget)
    per_instance = flags.mean(axis=(0, 2))
    se = per_instance.std(ddof=1) / np.sqrt(len(per_instance)) if len(per_instance) > 1 else 0.0
    return float(flags.mean()), float(se)


def paired_ratio(ours: dict, peer: dict, budget: int, functions: range | tuple = FUNCTIONS
                 ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per-instance fractions of targets reached (ours, peer) on ``functions``, the ratio of
    their means and its SE (delta method on the paired per-instance means)."""
    a, b = (reached(only(r, functions), budget).mean(axis=(0, 2)) for r in (ours, peer))
    ratio = a.mean() / b.mean()
    cov = np.cov(a, b, ddof=1) / len(a) if len(a) > 1 else np.zeros((2, 2))
    se = ratio * np.sqrt(cov[0, 0] / a.mean() ** 2 + cov[1, 1] / b.mean() ** 2
                         - 2 * cov[0, 1] / (a.mean() * b.mean()))
    return a, b, float(ratio), float(se)


def cell(value: tuple[float, float] | None) -> str:
    return "—" if value is None else f"{value[0]:.3f} ± {value[1]:.3f}"


def ecdf_plot(cache: dict, methods: list[str], dims: list[int], instances: list[int],
              path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(dims), figsize=(6 * len(dims), 5), squeeze=False)
    grid = np.logspace(0, 3, 61)
    for ax, d in zip(axes[0], dims):
        for n, method in enumerate(methods):
            budget = 1000 if collect(cache, method, d, 1000, instances) else 100
            records = collect(cache, method, d, budget, instances)
            if records is None:
                continue
            hits = np.array([r["hits"] for r in records.values()], dtype=float)
            curve = [((hits > 0) & (hits <= g * d)).mean() for g in grid if g <= budget]
            ours = base(method) in {base(m) for m in OURS}
            ax.plot(grid[:len(curve)], curve, "-" if ours else "--",
                    color=plt.cm.tab20(n % 20), lw=2.2 if base(method) == "cmaes" else 1.2,
                    label=label(method))
        ax.set(xscale="log", xlabel="evaluations / dimension", ylim=(0, 1),
               ylabel="fraction of (function, instance, target) reached",
               title=f"bbob f1-f24, d = {d}, instances {instances[0]}-{instances[-1]}*")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle("ECDF of runtimes to the 51 targets 10^[2..-8] (l2l solid, peers dashed; "
                 "*each method over the instances it ran, listed in the tables)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def cpu_note(cache: dict) -> str:
    """The CPU time the runs took (process time, so the load of a shared machine does not
    inflate it): all of them, and the subset that ``--quick`` runs."""
    total = sum(r["cpu_s"] for r in cache["runs"].values())
    quick = 0.0
    for method in QUICK:
        version = code_version(method)
        for d in (5, 20):
            for budget in budgets_of(method, d):
                quick += sum(cache["runs"].get(key(method, f, d, 1, budget, version),
                                               {"cpu_s": 0.0})["cpu_s"] for f in FUNCTIONS)
    return (f"CPU time of the runs: {total / 3600:.1f} h in all; the `--quick` subset "
            f"{quick / 60:.1f} min, i.e. about {quick / 120:.1f} min of wall time on 2 idle cores "
            "(measured as process time; wall times above are inflated by the machine's load).")


def best_per_budget(cache: dict, methods: list[str], dims: list[int],
                    instances: list[int]) -> list[str]:
    """Which of our (anytime) optimizers reaches most targets at each budget: the table
    behind ``auto``'s choice."""
    factors = (10, 30, 100, 300, 1000)
    lines = ["## The best l2l optimizer at each budget (behind `auto`)", "",
             "| d | " + " | ".join(f"{k}·d" for k in factors) + " |",
             "|---|" + "---|" * len(factors)]
    for d in dims:
        cells = []
        for k in factors:
            scored = []
            for m in methods:
                records = collect(cache, m, d, 1000, instances)
                if records is not None:
                    scored.append((score(records, k * d)[0], m))
            scored.sort(reverse=True)
            cells.append(", ".join(f"{m} {v:.3f}" for v, m in scored[:3]) or "—")
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return lines + ["", "(the three best of l2l's optimizers by targets reached at that "
                    "budget, from the same runs as above)", ""]


def peers_on_instance_1(cache: dict, dims: list[int]) -> tuple[list[str], list[dict]]:
    """l2l ``cmaes`` beside every peer measured on instance 1 (where they all ran): a table and
    a summary row for each dimension where at least three peers ran, "targets reached at 1000·d
    (at 100·d)"."""
    lines = ["## l2l cmaes beside every peer measured, instance 1: targets reached at 1000·d "
             "(100·d)", "", "| d | " + " | ".join(["l2l cmaes", *map(label, PEERS)]) + " |",
             "|---|" + "---|" * (1 + len(PEERS))]
    rows = []
    for d in dims:
        cells = {}
        for m in ("cmaes", *PEERS):
            got = [collect(cache, m, d, k, [1]) for k in (1000, 100)]
            if any(got):
                cells[m] = " ".join(("—" if r is None else f"{score(r, k * d)[0]:.3f}") if n == 0
                                    else f"({'—' if r is None else f'{score(r, k * d)[0]:.3f}'})"
                                    for n, (r, k) in enumerate(zip(got, (1000, 100))))
        if "cmaes" not in cells or len(cells) < 2:
            continue
        lines.append(f"| {d} | " + " | ".join(cells.get(m, "not run") for m in ("cmaes", *PEERS))
                     + " |")
        if len(cells) < 4:   # the README row is for dimensions where most peers ran
            continue
        rows.append({"what": f"bbob f1-24 targets reached at 1000·d (100·d), d={d}, instance 1, "
                             "beside every peer measured there",
                     "l2l": f"cmaes {cells['cmaes']}",
                     "reference": "; ".join(f"{label(m)} {cells[m]}" for m in PEERS if m in cells)
                     + " (same bench; — = not run at that budget)"})
    return lines + [""], rows


def report(methods: list[str], dims: list[int], instances: list[int], command: str) -> None:
    cache = load_cache()
    suites = sorted({k.split("|")[0] for k in cache["runs"]
                     if "/" in k.split("|")[0] and split_suite(k.split("|")[0])[0] in SUITES})
    methods = [*methods, *(m for m in suites if m not in methods)]
    available = [m for m in methods if any(collect(cache, m, d, b, instances)
                                           for d in dims for b in (100, 1000))]
    present = [m for m in available if split_suite(m)[0] == "bbob"]
    variants = [m for m in available if split_suite(m)[0] != "bbob"]
    lines = ["# Optimizers on COCO's bbob suite", "",
             "Commands: `python bench/optimizers.py` runs everything missing from the cache; the "
             "figures below were accumulated by the sessions listed at the end, each "
             "`python bench/optimizers.py --processes 1 --methods M --dims D --instances I`, "
             f"and reported by `{command}`.", "",
             (__doc__ or "").split("\n\n")[1].replace("\n", " "), "",
             (__doc__ or "").split("\n\n")[2].replace("\n", " "), ""]
    for name, (_, _, why) in LIMITS.items():
        lines.append(f"- {label(name)}: {why}.")
    lines += ["", "## Aggregate: fraction of targets reached (mean ± SE over instances)", "",
              "| method | " + " | ".join(f"d={d} 100·d | d={d} 1000·d" for d in dims) + " |",
              "|---|" + "---|---|" * len(dims)]
    scores: dict[tuple[str, int, int], tuple[float, float]] = {}
    failures = []
    for m in present:
        cells = []
        for d in dims:
            for factor in (100, 1000):
                records = collect(cache, m, d, factor, instances)
                if records is None:
                    cells.append("not run")
                    continue
                scores[(m, d, factor)] = score(records, factor * d)
                errors = [r["error"] for r in records.values() if r["error"]]
                text = cell(scores[(m, d, factor)])
                if n_instances(records) < len(instances):
                    text += f" ({n_instances(records)} inst.)"
                if errors:
                    text += f" ({len(errors)}/{len(records)} runs failed)"
                    failures.append(f"{label(m)} d={d} {factor}·d: {len(errors)} of "
                                    f"{len(records)} runs failed, e.g. {errors[0]}")
                cells.append(text)
        lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
    lines += ["", "Failures: " + ("; ".join(failures) if failures else "none") + ".", ""]
    ref = "pycma-ipop"
    rows = []
    if any((ref, d, 1000) in scores for d in dims):
        lines += ["## l2l cmaes vs pycma IPOP (ratio of targets reached; paired over instances)", "",
                  "The last column leaves out the separable f1-5, where `cmaes`'s separable start "
                  "does the work (docs/optimizers.md): the ratio on the 19 functions whose "
                  "coordinates interact, as most models' parameters do.", "",
                  "| d | budget | l2l cmaes | pycma IPOP | ratio ± SE | ratio on f6-24 ± SE |",
                  "|---|---|---|---|---|---|"]
        for d in dims:
            at_100 = ""
            for factor in (100, 1000):
                ours = collect(cache, "cmaes", d, factor, instances)
                peer = collect(cache, ref, d, factor, instances)
                if ours is None or peer is None:
                    continue
                common = sorted({i for _, i in ours} & {i for _, i in peer})
                if not common:
                    continue
                ours = {k: v for k, v in ours.items() if k[1] in common}
                peer = {k: v for k, v in peer.items() if k[1] in common}
                a, b, ratio, se = paired_ratio(ours, peer, factor * d)
                *_, r_ns, se_ns = paired_ratio(ours, peer, factor * d, range(6, 25))
                lines.append(f"| {d} | {factor}·d | {a.mean():.3f} | {b.mean():.3f} | "
                             f"{ratio:.3f} ± {se:.3f} (instances {common}) | "
                             f"{r_ns:.3f} ± {se_ns:.3f} |")
                if factor == 100:
                    at_100 = (f"; at 100·d {a.mean():.3f} vs {b.mean():.3f}, {ratio:.2f} ± "
                              f"{se:.2f}×")
                if factor == 1000:
                    rows.append({"what": f"bbob f1-24 targets reached at 1000·d, d={d} "
                                         f"(instances {common[0]}-{common[-1]})",
                                 "l2l": f"cmaes {a.mean():.3f} ({ratio:.2f} ± {se:.2f}× pycma "
                                        f"IPOP, paired over instances{at_100}; on the "
                                        f"non-separable f6-24 {r_ns:.2f} ± {se_ns:.2f}×)",
                                 "reference": f"pycma IPOP {b.mean():.3f} (same bench and "
                                              "instances)"})
        lines.append("")
    lines += ["### What was tried to make `cmaes` lead pycma IPOP", "",
              *(f"- {item}" for item in TRIED), ""]
    peer_lines, peer_rows = peers_on_instance_1(cache, dims)
    lines += peer_lines
    rows += peer_rows
    for d in dims:
        lines += [f"## d = {d}: per function group, 100·d / 1000·d", "",
                  "| method | " + " | ".join(GROUPS) + " |", "|---|" + "---|" * len(GROUPS)]
        for m in present:
            cells = []
            for fs in GROUPS.values():
                parts = []
                for factor in (100, 1000):
                    records = collect(cache, m, d, factor, instances)
                    parts.append("—" if records is None else
                                 f"{score(records, factor * d, tuple(fs))[0]:.2f}")
                cells.append(" / ".join(parts))
            lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
        lines.append("")
    for d in dims:
        cols = [m for m in present if collect(cache, m, d, 1000, instances)]
        lines += [f"## d = {d}: per function, 1000·d", "",
                  "| f | " + " | ".join(label(m).removeprefix("l2l ") for m in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for f in FUNCTIONS:
            vals = [score(collect(cache, m, d, 1000, instances), 1000 * d, (f,))[0]  # type: ignore[arg-type]
                    for m in cols]
            lines.append(f"| f{f} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
        lines.append("")
    lines += best_per_budget(cache, [m for m in present if base(m) in {base(o) for o in OURS}
                                     and base(m) not in BUDGETED], dims, instances)
    if variants:
        lines += ["## Variants of the suite (for `auto`'s choices): targets reached, mean ± SE",
                  "", "bbob-mixint: COCO's mixed-integer suite (80 % of the variables integer, "
                  "rounded as `l2l.Int` does). bbob-noise: bbob with the value a method sees "
                  f"multiplied by exp({NOISE:g} N(0, 1)) around f_opt (severe multiplicative "
                  "noise), targets judged on the noise-free value.", "",
                  "| method | " + " | ".join(f"d={d} 100·d | d={d} 1000·d" for d in dims) + " |",
                  "|---|" + "---|---|" * len(dims)]
        for m in variants:
            cells = []
            for d in dims:
                for factor in (100, 1000):
                    records = collect(cache, m, d, factor, instances)
                    cells.append("not run" if records is None else
                                 cell(score(records, factor * d)))
            lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Sessions", ""]
    for s in cache["sessions"]:
        lines.append(f"- {s['date']}: `--methods {';'.join(s['methods'])} --dims "
                     f"{','.join(map(str, s['dims']))} --instances "
                     f"{','.join(map(str, s['instances']))}"
                     + (f" --factors {','.join(map(str, s['factors']))}" if "factors" in s else "")
                     + f"`: {s['runs']} runs in "
                     f"{s['wall_s']:.0f} s wall. " + " ".join(s["machine"]))
    lines += ["", "(The runs of sessions that were interrupted are kept in the cache and "
              "counted above; they are not listed.)", "", cpu_note(cache)]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "optimizers.md").write_text("\n".join(lines) + "\n")
    ecdf_plot(cache, present, dims, instances, RESULTS / "optimizers.png")
    if rows:
        machine = cache["sessions"][-1]["machine"][0] if cache["sessions"] else "unknown"
        summary.write("optimizers", "python bench/optimizers.py (accumulated over the "
                      "sessions listed in bench/results/optimizers.md)", machine, rows)
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--methods", default=None,
                        help="comma-separated methods (default all): ours "
                             f"({', '.join(OURS)}, or name:key=value,...) and peers "
                             f"({', '.join(PEERS)}); use ';' to separate when a method has ','")
    parser.add_argument("--dims", default=None, help="e.g. 5,20 (default 5,10,20)")
    parser.add_argument("--instances", default="1-3", help="e.g. 1-5 or 1,2")
    parser.add_argument("--quick", action="store_true",
                        help="d = 5 and 20, instance 1, our optimizers and pycma IPOP")
    parser.add_argument("--factors", default="100,1000",
                        help="budgets (·d) at which a method told its budget (auto, nevergrad, "
                             "optuna) runs; e.g. 100 skips its separate 1000·d runs")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="only write the tables and plot")
    parser.add_argument("--merge", action="append", default=[], metavar="CACHE",
                        help="first add the runs of another cache file (e.g. one filled on "
                             "another machine or by a concurrent invocation)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.quick:
        methods, dims, instances = list(QUICK), [5, 20], [1]
    else:
        methods, dims = list(OURS + PEERS), list(DIMS)
        lo, _, hi = args.instances.partition("-")
        instances = list(range(int(lo), int(hi) + 1)) if hi else \
            [int(x) for x in args.instances.split(",")]
    if args.methods:
        methods = args.methods.split(";" if ";" in args.methods else ",")
    if args.dims:
        dims = [int(x) for x in args.dims.split(",")]
    for other in args.merge:
        save_cache(json.loads(Path(other).read_text()))
    shown = [a for n, a in enumerate(sys.argv[1:]) if not a.startswith("--merge")
             and not (n > 0 and sys.argv[n] == "--merge")]
    command = "python bench/optimizers.py " + " ".join(shown)
    if not args.report:
        run(methods, dims, instances, max(1, min(2, args.processes)),
            tuple(int(x) for x in args.factors.split(",")))
    report(methods, dims, instances, command)


if __name__ == "__main__":
    main()
