"""CMA-ES with active covariance update and IPOP / BIPOP restarts, in numpy."""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from . import separable
from .utils import choice, from_unit, positive_int, reflect_unit

RESTARTS = ("bipop", "ipop", "none")
BOUNDARIES = ("penalty", "mirror")
DAMPINGS = ("pycma", "tutorial")
PROBES = ("auto", "off")


class Strategy:
    """The constants of one CMA-ES run of population ``lam`` in ``d`` dimensions (Hansen 2016,
    "The CMA Evolution Strategy: A Tutorial", default settings with negative weights), with the
    step-size damping of pycma 4.5 (``damping = "pycma"``) or of the tutorial."""

    def __init__(self, d: int, lam: int, damping: str = "pycma"):
        self.d, self.lam = d, lam
        mu = lam // 2
        raw = np.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
        pos, neg = raw[:mu], raw[mu:]
        self.mu_eff = pos.sum() ** 2 / (pos**2).sum()
        mu_eff_neg = neg.sum() ** 2 / (neg**2).sum() if len(neg) and neg.any() else 0.0
        self.cc = (4 + self.mu_eff / d) / (d + 4 + 2 * self.mu_eff / d)
        self.cs = (self.mu_eff + 2) / (d + self.mu_eff + 5)
        self.c1 = 2 / ((d + 1.3) ** 2 + self.mu_eff)
        self.cmu = min(1 - self.c1, 2 * (self.mu_eff - 2 + 1 / self.mu_eff)
                       / ((d + 2) ** 2 + self.mu_eff))
        # pycma 4.5's step-size damping: the mu_eff term is scaled by 1 up to d = 5, 1.6 at
        # d = 10, 2.4 at d = 20 (3 for large d), so a large population shrinks its step more
        # slowly; the tutorial's factor is 1
        inner = max(1.0, 3 * (1 - 0.5 ** (d / 9))) if damping == "pycma" else 1.0
        self.ds = 1 + 2 * max(0.0, inner * np.sqrt((self.mu_eff - 1) / (d + 1)) - 1) + self.cs
        scale_neg = min(1 + self.c1 / self.cmu, 1 + 2 * mu_eff_neg / (self.mu_eff + 2),
                        (1 - self.c1 - self.cmu) / (d * self.cmu)) if self.cmu > 0 else 0.0
        self.weights = np.concatenate([pos / pos.sum(),
                                       neg / np.abs(neg).sum() * scale_neg if len(neg) else []])
        self.chi = np.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d))
        self.eigen_every = max(1, int(1 / ((self.c1 + self.cmu) * d * 10)))


class CMAES(VectorOptimizer):
    """Covariance matrix adaptation evolution strategy (Hansen & Ostermeier 2001; Hansen 2016,
    "The CMA Evolution Strategy: A Tutorial") with negative recombination weights (active CMA,
    Jastrebski & Arnold 2006) and restarts, implemented here in numpy so that its whole state
    is a handful of arrays (exact checkpoint/resume at no cost).

    The search runs in the unit cube of the space's bounds. A sampled point outside the cube
    is evaluated at the closest point of the cube (every asked vector is inside) and ranked
    with a penalty that grows with its squared distance to it (``boundary = "penalty"``, the
    box handling of Hansen et al. 2009, as pycma's ``BoundPenalty``), so a slope whose optimum
    lies on a bound is followed straight onto it; ``boundary = "mirror"`` folds samples back
    into the cube instead (the former rule, under which an optimum on a bound is a kink the
    search converges onto like onto an interior point). A run ends on the usual criteria (no
    change of the best values over 10 + 30 d / lambda generations, the best value shared by
    three quarters of the population in two generations running (pycma's ``tolflatfitness``),
    the step size below 1e-12 of its start, the covariance condition above 1e14, no effect of
    a step along a principal axis, stagnation of the median over 120 + 30 d / lambda
    generations); then it restarts from a uniformly drawn point:

    - ``restarts = "ipop"``: the population doubles at each restart (Auger & Hansen 2005);
    - ``restarts = "bipop"``: two regimes share the evaluations (Hansen 2009): large
      populations doubling as in IPOP with the initial step size, and small populations
      ``lambda_def (lambda_large / 2 lambda_def) ** (U**2)`` with step size
      ``sigma 10 ** (-2 U)`` (``U`` uniform), the regime that has spent fewer evaluations
      going next. As in pycma, the first run (default population) counts as a small one, so
      a large run follows it, and a small run stops after half the evaluations of all large
      runs so far. BIPOP is the default: on COCO's bbob suite (``bench/results/optimizers.md``,
      paired over instances 1-6; with the separable start below) it reached 1.16 ± 0.03 /
      1.13 ± 0.03 / 1.20 ± 0.03 times the targets of pycma's IPOP at 1000·d and 1.48 ± 0.02 /
      1.69 ± 0.05 / 1.73 ± 0.03 at 100·d (d = 5 / 10 / 20) — on the 19 non-separable
      functions alone 1.07 ± 0.03 / 1.02 ± 0.03 / 1.09 ± 0.03 at 1000·d; IPOP here was level
      with it (+0.000 ± 0.003 of the targets over d = 5, 10, 20 at 1000·d, both with the
      damping below, session 5);
    - ``restarts = "none"``: one run, then the search keeps sampling with its final settings.

    The step-size damping (``damping``) is pycma 4.5's by default (``"pycma"``):
    ``d_sigma = 1 + 2 max(0, k_d sqrt((mu_eff - 1) / (d + 1)) - 1) + c_sigma`` with
    ``k_d = max(1, 3 (1 - 2 ** (-d / 9)))`` (1 up to d = 5, 1.6 at d = 10, 2.4 at d = 20);
    ``"tutorial"`` is Hansen's (2016) ``k_d = 1``, the rule here until session 5. The two
    differ only for populations large against d (from about 18 at d = 10 and 16 at d = 20:
    the large runs of IPOP and BIPOP), whose step the tutorial's damping shrank before they
    had crossed plateaus and ruggedness: with pycma's the step ellipsoid f7 at d = 20 went
    from 0.38 to 0.79 of its targets and the bbob aggregate at 1000·d gained +0.021 ± 0.007
    (d = 20) and +0.007 ± 0.006 (d = 10), instances 1-6, d = 5 unchanged by construction.

    Separable start (``separable_probe = "auto"``, the default; ``"off"``: none): before the
    first CMA-ES run, a coordinate-wise global search (``l2l.optimizers.separable``: interval
    division after the idea of STEP, "select the easiest point", as BIPOP-aCMA-STEP and HCMA
    (Loshchilov, Schoenauer & Sebag 2013) put one in front of CMA-ES, with local parabolic
    steps) tries each coordinate at a few points and keeps, per coordinate, what it learns
    about the function along it. That is only valid if the function is additively separable,
    so every batch checks it: the point that combines the coordinate-wise improvements (or a
    point tried earlier) is evaluated and must have the value the profiles predict (relative
    error 1e-9). On a function whose coordinates interact the first combination misses and
    CMA-ES takes over, starting where it would have without the search (on COCO's 19
    non-separable functions after 16-312 evaluations, mostly 2-4 lambda); on a separable one
    the search goes on for at most ``probe_budget`` x d evaluations (300: 0.3 of a 1000·d
    budget), or until 100 d evaluations bring no improvement, and CMA-ES starts from its best
    point. On bbob (instances 1-6, paired against the code without it) it solves the
    separable Rastrigin f3 and Büche-Rastrigin f4 (+0.80 to +0.93 of their targets) and gains
    +0.067 ± 0.005 / +0.068 ± 0.005 / +0.092 ± 0.008 of all targets at 1000·d (d = 5 / 10 /
    20), every non-separable group within 1 SE of level; at 100·d the evaluations before the
    first check cost the ill-conditioned f10-f14 0.010 ± 0.003 (d = 5). It runs in
    generational mode only (async mode starts CMA-ES at once).

    Hyper-parameters (defaults): ``population`` (None: 4 + floor(3 ln d)); ``sigma`` initial
    step size as a fraction of each range (0.2: 2 on COCO's [-5, 5], the customary setting);
    ``x0`` first start point, "center" or "random" (restarts start at random points)
    ("center"); ``restarts`` ("bipop", "ipop" or "none"; an int n means IPOP with at most n
    restarts, the setting before BIPOP existed here); ``max_restarts`` (None: unlimited);
    ``incpopsize`` factor of IPOP / the large regime (2); ``boundary`` ("penalty" or
    "mirror", see above) ("penalty"); ``damping`` ("pycma" or "tutorial", see above)
    ("pycma"); ``separable_probe`` ("auto" or "off") and ``probe_budget`` (evaluations per
    dimension) of the separable start above ("auto", 300); ``bounding`` ("clip"); ``penalty``
    for failed evaluations (None: worse than the worst); ``weights`` (None).

    Async mode: each ask samples one point from the current distribution; told results are
    collected in completion order and the distribution is updated once ``lambda`` of them
    have arrived (as pycma's asynchronous use, where a sample may come from an earlier
    distribution). Results of samples drawn before a restart are not used by the new run.
    """

    state_attributes: ClassVar[tuple[str, ...]] = (
        "mean", "sigma_now", "cov", "pc", "ps", "basis", "scales", "eigen_gen", "gen", "lam",
        "sigma0", "flat_gens", "samples", "best_hist", "median_hist", "run", "large_runs", "spent",
        "run_evals", "run_budget", "regime", "async_tickets", "async_runs",
        "async_samples", "told_samples", "told_losses", "next_ticket", "bound_weights",
        "iqr_hist", "probe")
    asynchronous: ClassVar[bool] = True

    def __init__(self, population: int | None = None, sigma: float = 0.2, x0: str = "center",
                 restarts: str | int = "bipop", max_restarts: int | None = None,
                 incpopsize: float = 2, boundary: str = "penalty", bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None,
                 damping: str = "pycma", separable_probe: str = "auto", probe_budget: float = 300):
        self.population = population
        self.sigma = sigma
        self.x0 = x0
        self.restarts = restarts
        self.max_restarts = max_restarts
        self.incpopsize = incpopsize
        self.boundary = boundary
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights
        self.damping = damping
        self.separable_probe = separable_probe
        self.probe_budget = probe_budget

    # -- set-up ------------------------------------------------------------------------------
    def start(self, problem: Problem) -> None:
        super().start(problem)
        if self.population is not None:
            positive_int("population", self.population, 2)
        if self.max_restarts is not None:
            positive_int("max_restarts", self.max_restarts, 0)
        choice("x0", self.x0, ("random", "center"))
        choice("boundary", self.boundary, BOUNDARIES)
        choice("damping", self.damping, DAMPINGS)
        choice("separable_probe", self.separable_probe, PROBES)
        if not float(self.probe_budget) >= 0:
            raise ConfigError(f"probe_budget must be >= 0, got {self.probe_budget}")
        if not isinstance(self.restarts, (int, np.integer)):
            choice("restarts", self.restarts, RESTARTS)
        elif self.restarts < 0:
            raise ConfigError(f"restarts must be {', '.join(RESTARTS)} or an int >= 0, "
                              f"got {self.restarts}")
        if not 0 < float(self.sigma) <= 1:
            raise ConfigError(f"sigma must be in (0, 1], got {self.sigma}")
        if float(self.incpopsize) < 1:
            raise ConfigError(f"incpopsize must be at least 1, got {self.incpopsize}")
        d = max(self.space.dim, 1)
        self.run, self.large_runs = 0, 0
        self.spent = np.zeros(2)           # evaluations of the large and the small regime
        self.regime = 1                    # 0: large, 1: small (the first run counts as small)
        start = np.full(d, 0.5) if self.x0 == "center" else self.rng.uniform(size=d)
        self._new_run(start, self._default_lambda(), float(self.sigma), budget=-1)
        budget = int(float(self.probe_budget) * d)
        self.probe = (separable.start(start, budget) if self.separable_probe == "auto"
                      and self.space.dim > 0 and budget > 0 else {"active": False})
        self.next_ticket = 0
        self.async_tickets, self.async_runs = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        self.async_samples = np.zeros((0, d))
        self.told_samples, self.told_losses = np.zeros((0, d)), np.zeros(0)

    def _default_lambda(self) -> int:
        d = max(self.space.dim, 1)
        return int(self.population) if self.population is not None else 4 + int(3 * np.log(d))

    def _mode(self) -> tuple[str, int | None]:
        if isinstance(self.restarts, (int, np.integer)):
            return "ipop", int(self.restarts)
        limit = None if self.max_restarts is None else int(self.max_restarts)
        return str(self.restarts), 0 if self.restarts == "none" else limit

    def _new_run(self, start: np.ndarray, lam: int, sigma: float, budget: int) -> None:
        d = len(start)
        self.mean = start.astype(float)
        self.sigma_now, self.sigma0, self.lam = sigma, sigma, int(lam)
        self.cov, self.basis, self.scales = np.eye(d), np.eye(d), np.ones(d)
        self.pc, self.ps = np.zeros(d), np.zeros(d)
        self.eigen_gen, self.gen, self.flat_gens = 0, 0, 0
        self.samples = np.zeros((0, d))
        self.best_hist, self.median_hist = np.zeros(0), np.zeros(0)
        self.run_evals, self.run_budget = 0, int(budget)
        self.bound_weights, self.iqr_hist = np.zeros(d), np.zeros(0)

    # -- ask / tell --------------------------------------------------------------------------
    def ask_vectors(self) -> np.ndarray:
        if self.probe["active"]:
            self.samples = separable.ask(self.probe, int(self.lam), self.rng)
            return self._feasible(self.samples)
        z = self.rng.standard_normal((int(self.lam), len(self.mean)))
        self.samples = self.mean + float(self.sigma_now) * (z * self.scales) @ self.basis.T
        return self._feasible(self.samples)

    def _feasible(self, samples: np.ndarray) -> np.ndarray:
        """The points of the space evaluated for ``samples`` (unit-cube coordinates): the
        closest point of the box (``boundary = "penalty"``) or the mirror image."""
        inside = np.clip(samples, 0.0, 1.0) if self.boundary == "penalty" else reflect_unit(samples)
        return from_unit(self.space, inside)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        if self.space.dim == 0:
            return
        if self.probe["active"]:
            separable.tell(self.probe, self.samples, losses)
            if not self.probe["active"]:   # hand over to CMA-ES
                self._new_run(separable.handover(self.probe), self._default_lambda(),
                              float(self.sigma), budget=-1)
            return
        st = Strategy(len(self.mean), int(self.lam), str(self.damping))
        losses = self._update(st, losses)
        self.run_evals = int(self.run_evals) + len(losses)
        reason = self._stop_reason(st, losses)
        if reason:
            self._restart()

    def ask_vector(self) -> tuple[int, np.ndarray]:
        self.probe["active"] = False   # async mode: no coordinate-wise start
        z = self.rng.standard_normal(len(self.mean))
        sample = self.mean + float(self.sigma_now) * (z * self.scales) @ self.basis.T
        ticket = int(self.next_ticket)
        self.next_ticket = ticket + 1
        self.async_tickets = np.append(np.asarray(self.async_tickets, dtype=np.int64), ticket)
        self.async_runs = np.append(np.asarray(self.async_runs, dtype=np.int64), int(self.run))
        self.async_samples = np.vstack([self.async_samples, sample])
        return ticket, self._feasible(sample)

    def known_losses(self) -> np.ndarray:
        return np.concatenate([self.told_losses, self.best_hist[-1:]])

    def tell_loss(self, ticket: int, vector: np.ndarray, loss: float, evaluation: Evaluation) -> None:
        tickets = np.asarray(self.async_tickets, dtype=np.int64)
        row = int(np.flatnonzero(tickets == ticket)[0])
        sample, run = self.async_samples[row], int(self.async_runs[row])
        keep = np.arange(len(tickets)) != row
        self.async_tickets, self.async_runs = tickets[keep], np.asarray(self.async_runs)[keep]
        self.async_samples = self.async_samples[keep]
        if run != int(self.run) or self.space.dim == 0:
            return  # drawn before a restart: the new run does not learn from it
        self.told_samples = np.vstack([self.told_samples, sample])
        self.told_losses = np.append(self.told_losses, loss)
        lam = int(self.lam)
        if len(self.told_losses) < lam:
            return
        self.samples, losses = self.told_samples[:lam], self.told_losses[:lam]
        self.told_samples, self.told_losses = self.told_samples[lam:], self.told_losses[lam:]
        st = Strategy(len(self.mean), lam, str(self.damping))
        losses = self._update(st, losses)
        self.run_evals = int(self.run_evals) + lam
        if self._stop_reason(st, losses):
            self._restart()
            self.told_samples, self.told_losses = self.told_samples[:0], self.told_losses[:0]

    def _update(self, st: Strategy, losses: np.ndarray) -> np.ndarray:
        """One generation's update from the losses of ``self.samples``; returns the losses
        as ranked (with the bound penalty)."""
        d = st.d
        losses = self._penalized(st, losses)
        order = np.argsort(losses, kind="stable")
        sigma = float(self.sigma_now)
        y = (self.samples[order] - self.mean) / sigma
        mu = st.lam // 2
        y_w = st.weights[:mu] @ y[:mu]
        self.mean = self.mean + sigma * y_w
        inv_sqrt = (self.basis / self.scales) @ self.basis.T
        self.ps = (1 - st.cs) * self.ps + np.sqrt(st.cs * (2 - st.cs) * st.mu_eff) * (inv_sqrt @ y_w)
        self.gen = int(self.gen) + 1
        norm_ps = float(np.linalg.norm(self.ps))
        h_sig = norm_ps / np.sqrt(1 - (1 - st.cs) ** (2 * self.gen)) < (1.4 + 2 / (d + 1)) * st.chi
        self.pc = (1 - st.cc) * self.pc + h_sig * np.sqrt(st.cc * (2 - st.cc) * st.mu_eff) * y_w
        w = st.weights.copy()
        neg = w < 0
        if neg.any():
            mahal = np.sum((y[neg] @ inv_sqrt.T) ** 2, axis=1)
            w[neg] *= d / np.maximum(mahal, 1e-300)
        delta = (1 - h_sig) * st.cc * (2 - st.cc)
        self.cov = ((1 + st.c1 * delta - st.c1 - st.cmu * st.weights.sum()) * self.cov
                    + st.c1 * np.outer(self.pc, self.pc) + st.cmu * (y.T * w) @ y)
        self.sigma_now = sigma * float(np.exp(min(1.0, st.cs / st.ds * (norm_ps / st.chi - 1))))
        if self.gen - int(self.eigen_gen) >= st.eigen_every:
            self.cov = (self.cov + self.cov.T) / 2
            values, vectors = np.linalg.eigh(self.cov)
            if values.min() <= 0:   # the negative weights overshot: repair definiteness
                values = np.maximum(values, 1e-20 * max(float(values.max()), 1e-300))
                self.cov = (vectors * values) @ vectors.T
            self.scales = np.sqrt(values)
            self.basis = vectors
            self.eigen_gen = self.gen
        # flat fitness: three quarters of the population or more share the best value
        flat = losses[order[0]] == losses[order[int(0.75 * st.lam)]]
        self.flat_gens = int(self.flat_gens) + 1 if flat else 0
        self.best_hist = np.append(self.best_hist, losses[order[0]])[-(20000):]
        self.median_hist = np.append(self.median_hist, np.median(losses))[-(20000):]
        return losses

    def _penalized(self, st: Strategy, losses: np.ndarray) -> np.ndarray:
        """``losses`` plus the bound penalty of the samples that were moved onto the box
        (Hansen et al. 2009, "A method for handling uncertainty in evolutionary optimization",
        the box constraint handling): ``sum_i w_i (x_i - clip(x_i))**2 / d``, with weights
        ``w_i`` set from the population's spread of values per unit of variance and raised
        while the mean stays outside the box in coordinate ``i``. A slope whose optimum is on a
        bound is followed straight onto it (the clipped points are the optimum there), where
        mirroring made the search converge onto the bound as onto a kink."""
        if self.boundary != "penalty":
            return losses
        d = st.d
        variances = float(self.sigma_now) ** 2 * np.maximum(np.diag(self.cov), 1e-300)
        ranked = np.sort(losses)
        n = len(ranked) + 1
        spread = (ranked[min(3 * n // 4, len(ranked) - 1)] - ranked[n // 4]) / variances.mean()
        hist = np.asarray(self.iqr_hist, dtype=float)
        if np.isfinite(spread) and spread > 0:
            hist = np.concatenate([[spread], hist])[:20 + int(3 * d / st.lam)]
        self.iqr_hist = hist
        weights = np.asarray(self.bound_weights, dtype=float)
        if len(hist):
            level = float(np.median(hist))
            damp = min(1.0, st.mu_eff / 10 / d)
            if not weights.any():
                weights = np.full(d, 2 * level)
            beyond = np.abs(self.mean - np.clip(self.mean, 0.0, 1.0)) / np.sqrt(variances)
            excess = beyond - 3 * max(1.0, np.sqrt(d) / st.mu_eff)
            weights = weights * np.exp((excess > 0) * np.tanh(excess / 3) / 2) ** damp
            weights[weights > 5 * level] *= np.exp(-1 / 3) ** damp
        self.bound_weights = weights
        outside = self.samples - np.clip(self.samples, 0.0, 1.0)
        return losses + (outside**2 * weights).sum(axis=1) / d

    def _stop_reason(self, st: Strategy, losses: np.ndarray) -> str:
        d, gen, sigma = st.d, int(self.gen), float(self.sigma_now)
        if 0 <= int(self.run_budget) <= int(self.run_evals):
            return "budget"
        window = 10 + int(np.ceil(30 * d / st.lam))
        recent = np.concatenate([self.best_hist[-window:], losses])
        tol = max(1e-12, 1e-14 * float(np.abs(recent).max()))
        if gen >= window and np.ptp(recent) <= tol:
            return "tolfun"
        if int(self.flat_gens) > 1:
            return "flatfitness"
        if sigma * float(self.scales.max()) < 1e-12 * float(self.sigma0):
            return "tolx"
        if float(self.scales.max()) / float(self.scales.min()) > 1e7:
            return "conditioncov"
        axis = self.basis[:, gen % d] * self.scales[gen % d]
        if np.all(self.mean == self.mean + 0.1 * sigma * axis):
            return "noeffectaxis"
        if np.any(self.mean == self.mean + 0.2 * sigma * np.sqrt(np.maximum(np.diag(self.cov), 0.0))):
            return "noeffectcoord"
        if sigma * float(self.scales.max()) > 1e4:
            return "tolupsigma"
        span = 120 + int(30 * d / st.lam)
        n = len(self.best_hist)
        if gen > span and n >= span:
            part = max(1, int(0.3 * n))
            if (np.median(self.best_hist[-part:]) >= np.median(self.best_hist[:part])
                    and np.median(self.median_hist[-part:]) >= np.median(self.median_hist[:part])):
                return "stagnation"
        if gen > 100 + 150 * (d + 3) ** 2 / np.sqrt(st.lam):
            return "maxiter"
        return ""

    def _restart(self) -> None:
        mode, limit = self._mode()
        self.spent[int(self.regime)] += int(self.run_evals)
        if limit is not None and int(self.run) >= limit:
            # no restart left: keep sampling around the final mean with a fresh step size
            self.sigma_now = max(float(self.sigma_now), 1e-8)
            self.run_evals, self.run_budget, self.gen = 0, -1, 0
            self.best_hist, self.median_hist = np.zeros(0), np.zeros(0)
            return
        self.run = int(self.run) + 1
        d = len(self.mean)
        start = self.rng.uniform(size=d)
        default = self._default_lambda()
        factor = float(self.incpopsize)
        if mode == "ipop" or self.spent[0] <= self.spent[1]:
            self.regime, self.large_runs = 0, int(self.large_runs) + 1
            lam = int(round(default * factor ** self.large_runs))
            self._new_run(start, lam, float(self.sigma), budget=-1)
            return
        self.regime = 1
        u = float(self.rng.uniform())
        large = default * factor ** int(self.large_runs)
        lam = max(2, int(default * (0.5 * large / default) ** (u * u)))
        self._new_run(start, lam, float(self.sigma) * 10 ** (-2 * u),
                      budget=max(lam, int(self.spent[0]) // 2))

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        for name in ("mean", "cov", "pc", "ps", "basis", "scales", "samples", "best_hist",
                     "median_hist", "spent", "async_samples", "told_samples", "told_losses",
                     "bound_weights", "iqr_hist"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))

