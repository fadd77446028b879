"""``nest-reservoir``: a spiking reservoir that classifies scikit-learn's 8×8 digits.

Each image is shown for ``presentation_ms``, followed by ``rest_ms`` without input, to a
reservoir of excitatory and inhibitory ``iaf_psc_exp`` neurons with fixed random recurrent
connectivity (drawn from ``network_seed``). ``input_coding`` says how pixels reach it:
``"current"`` (default) gives each neuron a constant current during the presentation, the pixel
intensities times fixed random normal weights (scale ``input_weight`` pA, each pixel reaching a
neuron with probability ``input_probability``) on top of ``reservoir_bias``; ``"poisson"`` turns
the 64 pixels into inhomogeneous Poisson trains (rate ``max_input_rate`` × intensity, relayed by
parrot neurons so every target sees the same train) with synaptic weight ``input_weight``.
``noise_std`` adds white-noise current to every reservoir neuron.
Ten readout ``iaf_psc_exp`` neurons, one per class, receive the spikes of the
first ``n_readout_sources`` reservoir neurons through the optimized weights ``weights``
(shape ``(n_readout_sources, 10)``, pA, bounded by ``±weight_bound``) and a constant current
``readout_bias`` (pA; 375 pA is the rheobase) that keeps them near threshold, so that weight
changes show in their spike counts from the start.

Observation (for the ensemble Kalman filter): readout spike counts per training image and class,
divided by ``target_rate × presentation``, flattened image-major; :meth:`targets` is the one-hot
label matrix flattened the same way. Fitness: ``accuracy`` (maximised) and ``mse`` of observation
versus targets (minimised), weighted ``1`` and ``mse_weight`` in the scalar loss. The decision
is the readout with the most spikes, ties broken by the earliest first spike; an image counts
as correct only when its class's readout fired and wins strictly (equal counts and equal first
spike times are errors, as is a silent readout).

Noise: Poisson input and membrane noise are drawn by NEST's RNG, seeded (``rng_seed``) with
``input_seed`` when it is an integer (the default: frozen noise, the same realisation in every
evaluation, so an evaluation is a deterministic function of the weights, which suits the
ensemble Kalman filter) or with the evaluation's seed when ``input_seed`` is None.

Batch path: :meth:`evaluate_batch` builds the reservoir once and one readout population per
parameter set, so the reservoir is simulated once for the whole batch while every readout is a
simulated spiking population of its own. Readouts do not feed back and draw no random numbers,
so member ``i`` of a batch gets exactly the readout spikes of ``evaluate(params[i], seed)`` with
the batch's NEST seed: ``input_seed``, or the batch's first seed when ``input_seed`` is None
(one reservoir cannot carry several noise realisations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from l2l import ConfigError, Evaluation, Float, Objectives, Optimizee, Space
from l2l.space import Params

from .digits import N_CLASSES, N_PIXELS, Split, digits_splits
from .kernel import import_nest, reset_kernel
from .spikes import first_spikes, spike_counts

#: Parameters of all ``iaf_psc_exp`` neurons (NEST defaults otherwise: C_m 250 pF, tau_m 10 ms,
#: E_L -70 mV, V_th -55 mV, V_reset -70 mV, t_ref 2 ms).
NEURON = {"tau_syn_ex": 2.0, "tau_syn_in": 2.0}
#: Readout neurons integrate over a longer synaptic time to smooth their input.
READOUT = {"tau_syn_ex": 5.0, "tau_syn_in": 5.0}
DELAY = 1.0  # ms, every synapse
INPUT_CODINGS = ("current", "poisson")


@dataclass
class RunOutput:
    """Spike counts of one simulation: readout counts and first-spike latencies (ms after the
    window's start, inf when silent) per member ``(n_images, 10)``, and the reservoir's counts
    ``(n_images, n_reservoir)``."""

    readout: list[np.ndarray]
    latency: list[np.ndarray]
    reservoir: np.ndarray


class ReservoirDigits(Optimizee):
    """Spiking reservoir + trainable spiking readout on the digits task (``nest-reservoir``)."""

    def __init__(self, n_excitatory: int = 160, n_inhibitory: int = 40,
                 n_readout_sources: int | None = 50, connection_probability: float = 0.1,
                 j_excitatory: float = 30.0, g: float = 4.0, input_coding: str = "current",
                 input_probability: float = 0.5, input_weight: float = 200.0,
                 max_input_rate: float = 200.0, reservoir_bias: float = 300.0,
                 noise_std: float = 0.0, presentation_ms: float = 50.0, rest_ms: float = 10.0,
                 n_train: int = 500, n_validation: int = 300, n_test: int | None = None,
                 weight_bound: float = 300.0, readout_bias: float = 300.0,
                 target_rate: float = 200.0, mse_weight: float = 1.0, data_seed: int = 0,
                 network_seed: int = 1, input_seed: int | None = 0, local_num_threads: int = 1,
                 resolution: float = 0.5):
        self.n_excitatory = n_excitatory
        self.n_inhibitory = n_inhibitory
        self.n_readout_sources = n_readout_sources
        self.connection_probability = connection_probability
        self.j_excitatory = j_excitatory
        self.g = g
        self.input_coding = input_coding
        self.input_probability = input_probability
        self.input_weight = input_weight
        self.max_input_rate = max_input_rate
        self.reservoir_bias = reservoir_bias
        self.noise_std = noise_std
        self.presentation_ms = presentation_ms
        self.rest_ms = rest_ms
        self.n_train = n_train
        self.n_validation = n_validation
        self.n_test = n_test
        self.weight_bound = weight_bound
        self.readout_bias = readout_bias
        self.target_rate = target_rate
        self.mse_weight = mse_weight
        self.data_seed = data_seed
        self.network_seed = network_seed
        self.input_seed = input_seed
        self.local_num_threads = local_num_threads
        self.resolution = resolution

    # -- configuration ---------------------------------------------------------------------
    @property
    def n_reservoir(self) -> int:
        return int(self.n_excitatory) + int(self.n_inhibitory)

    @property
    def n_sources(self) -> int:
        return self.n_reservoir if self.n_readout_sources is None else int(self.n_readout_sources)

    def _check(self) -> None:
        if int(self.n_excitatory) < 1 or int(self.n_inhibitory) < 0:
            raise ConfigError("nest-reservoir: n_excitatory must be >= 1 and n_inhibitory >= 0")
        if not 1 <= self.n_sources <= self.n_reservoir:
            raise ConfigError(f"nest-reservoir: n_readout_sources must be in 1..{self.n_reservoir}, "
                              f"got {self.n_readout_sources}")
        if self.input_coding not in INPUT_CODINGS:
            raise ConfigError(f"nest-reservoir: input_coding must be one of {INPUT_CODINGS}, "
                              f"got {self.input_coding!r}")
        if float(self.noise_std) < 0:
            raise ConfigError(f"nest-reservoir: noise_std must be >= 0, got {self.noise_std}")
        for name in ("connection_probability", "input_probability"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ConfigError(f"nest-reservoir: {name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("presentation_ms", "rest_ms", "weight_bound", "target_rate", "max_input_rate"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(f"nest-reservoir: {name} must be positive, got {getattr(self, name)}")
        for name in ("presentation_ms", "rest_ms"):
            steps = float(getattr(self, name)) / float(self.resolution)
            if abs(steps - round(steps)) > 1e-9:
                raise ConfigError(f"nest-reservoir: {name}={getattr(self, name)} is not a multiple "
                                  f"of the resolution {self.resolution}")

    def _splits(self) -> dict[str, Split]:
        return digits_splits(int(self.n_train), int(self.n_validation),
                             None if self.n_test is None else int(self.n_test), int(self.data_seed))

    # -- optimizee protocol ------------------------------------------------------------------
    def space(self) -> Space:
        self._check()
        b = float(self.weight_bound)
        return Space([Float("weights", -b, b, shape=(self.n_sources, N_CLASSES))])

    def objectives(self) -> Objectives:
        return Objectives(("accuracy", "mse"), ("max", "min"), (1.0, float(self.mse_weight)))

    def targets(self) -> np.ndarray:
        """One-hot labels of the training images, flattened image-major, shape ``(n_train*10,)``."""
        return self._splits()["train"].one_hot().reshape(-1)

    def setup(self) -> None:
        self._check()
        self._splits()
        import_nest()

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        return self.evaluate_batch([params], [seed])[0]

    def evaluate_batch(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Evaluation]:
        split = self._splits()["train"]
        seed = self._nest_seed(seeds[0])
        run = self.simulate(split, [p["weights"] for p in params], seed)
        return [self._score(counts, latency, split, {"nest_seed": seed})
                for counts, latency in zip(run.readout, run.latency)]

    def validate(self, params: Params, seed: int) -> Evaluation:
        """Accuracy and mse on the validation images."""
        return self.score(params, seed, "validation")

    fresh_seeds = ("accuracy and mse on the training images with a new NEST seed (the same "
                   "spikes unless input_seed = None)")

    def held_out(self) -> dict[str, str]:
        """Validation and test accuracy (``l2l validate``)."""
        splits = self._splits()
        return {part: f"accuracy and mse on the {len(splits[part].labels)} {part} images"
                for part in ("validation", "test")}

    def score_held_out(self, name: str, params: Params, seed: int) -> Evaluation:
        return self.score(params, seed, name)

    def test(self, params: Params, seed: int) -> Evaluation:
        """Accuracy and mse on the test images (report these, never optimize on them)."""
        return self.score(params, seed, "test")

    def score(self, params: Params, seed: int, part: str) -> Evaluation:
        """Evaluate ``params`` on the ``train``, ``validation`` or ``test`` images."""
        splits = self._splits()
        if part not in splits:
            raise ConfigError(f"nest-reservoir: unknown part {part!r} (use {', '.join(splits)})")
        split = splits[part]
        run = self.simulate(split, [params["weights"]], self._nest_seed(seed))
        return self._score(run.readout[0], run.latency[0], split,
                           {"part": part, "n_images": len(split.labels)})

    def _nest_seed(self, seed: int) -> int:
        return int(seed) if self.input_seed is None else int(self.input_seed)

    def _score(self, counts: np.ndarray, latency: np.ndarray, split: Split,
               info: dict[str, Any]) -> Evaluation:
        obs = counts / (float(self.target_rate) * float(self.presentation_ms) / 1000.0)
        target = split.one_hot()
        # decision: most spikes, ties broken by the earlier first spike (latency < window)
        window = float(self.presentation_ms)
        score = counts - np.minimum(latency, window) / (window + 1.0)
        correct = score[np.arange(len(split.labels)), split.labels]
        others = np.where(target > 0, -np.inf, score).max(axis=1)
        fired = counts[np.arange(len(split.labels)), split.labels] > 0
        accuracy = float(np.mean(fired & (correct > others)))
        mse = float(np.mean((obs - target) ** 2))
        info = {**info, "mean_readout_rate": float(obs.mean() * float(self.target_rate))}
        return Evaluation(fitness=(accuracy, mse), observation=obs.reshape(-1), info=info)

    # -- simulation --------------------------------------------------------------------------
    def simulate(self, split: Split, weights: Sequence[np.ndarray], seed: int) -> RunOutput:
        """One NEST simulation of ``split``'s images: the reservoir once, one readout
        population per weight matrix in ``weights``."""
        self._check()
        weights = [np.asarray(w, dtype=float) for w in weights]
        for w in weights:
            if w.shape != (self.n_sources, N_CLASSES):
                raise ConfigError(f"nest-reservoir: weights of shape {w.shape}, expected "
                                  f"{(self.n_sources, N_CLASSES)}")
        nest = reset_kernel(seed, self.local_num_threads, self.resolution)
        rng = np.random.default_rng(int(self.network_seed))
        presentation, rest = float(self.presentation_ms), float(self.rest_ms)
        onsets = np.arange(len(split.labels)) * (presentation + rest) + rest
        edges = np.column_stack([onsets, onsets + presentation]).reshape(-1)

        reservoir = nest.Create("iaf_psc_exp", self.n_reservoir,
                                params={**NEURON, "I_e": float(self.reservoir_bias)})
        input_map = rng.random((N_PIXELS, self.n_reservoir)) < float(self.input_probability)
        if self.input_coding == "poisson":
            self._poisson_input(nest, reservoir, split, edges, input_map)
        else:
            currents = split.images @ (input_map * rng.standard_normal(input_map.shape)
                                       * float(self.input_weight))
            self._current_input(nest, reservoir, currents, edges)
        self._connect_recurrent(nest, reservoir, rng)
        if float(self.noise_std) > 0:
            noise = nest.Create("noise_generator", params={"std": float(self.noise_std)})
            nest.Connect(noise, reservoir)
        readout_params = {**READOUT, "I_e": float(self.readout_bias)}
        readouts = nest.Create("iaf_psc_exp", N_CLASSES * len(weights), params=readout_params)
        sources = reservoir[:self.n_sources]
        for i, w in enumerate(weights):
            nest.Connect(sources, readouts[i * N_CLASSES:(i + 1) * N_CLASSES], "all_to_all",
                         syn_spec={"weight": w.T, "delay": DELAY})
        recorder = nest.Create("spike_recorder")
        nest.Connect(reservoir + readouts, recorder)

        nest.Simulate(float(edges[-1]) + DELAY)
        events = recorder.events
        res_counts = spike_counts(events, reservoir.tolist()[0], self.n_reservoir, edges)[0::2]
        # readouts receive their input one synaptic delay later: count in shifted windows
        out = spike_counts(events, readouts.tolist()[0], len(readouts), edges + DELAY)[0::2]
        first = first_spikes(events, readouts.tolist()[0], len(readouts), edges + DELAY)[0::2]
        members = [slice(i * N_CLASSES, (i + 1) * N_CLASSES) for i in range(len(weights))]
        return RunOutput(readout=[out[:, m] for m in members], latency=[first[:, m] for m in members],
                         reservoir=res_counts)

    def _poisson_input(self, nest: Any, reservoir: Any, split: Split, edges: np.ndarray,
                       input_map: np.ndarray) -> None:
        """Pixel intensities as Poisson trains (relayed by parrots) onto ``input_map``."""
        generators = nest.Create("inhomogeneous_poisson_generator", N_PIXELS)
        rates = np.zeros((N_PIXELS, edges.size))
        rates[:, 0::2] = split.images.T * float(self.max_input_rate)
        generators.set([{"rate_times": edges, "rate_values": rates[i]} for i in range(N_PIXELS)])
        pixels = nest.Create("parrot_neuron", N_PIXELS)
        nest.Connect(generators, pixels, "one_to_one")
        pre, post = np.nonzero(input_map)
        if pre.size:
            nest.Connect(np.asarray(pixels.tolist())[pre], np.asarray(reservoir.tolist())[post],
                         "one_to_one", syn_spec={"weight": np.full(pre.size, float(self.input_weight)),
                                                 "delay": np.full(pre.size, DELAY)})

    def _current_input(self, nest: Any, reservoir: Any, currents: np.ndarray,
                       edges: np.ndarray) -> None:
        """Each image as a constant current per reservoir neuron (one step current generator
        per neuron, switched on at the onsets and off at the ends of the presentations)."""
        generators = nest.Create("step_current_generator", self.n_reservoir)
        amplitudes = np.zeros((self.n_reservoir, edges.size))
        amplitudes[:, 0::2] = currents.T
        generators.set([{"amplitude_times": edges, "amplitude_values": amplitudes[i]}
                        for i in range(self.n_reservoir)])
        nest.Connect(generators, reservoir, "one_to_one")


    def _connect_recurrent(self, nest: Any, reservoir: Any, rng: np.random.Generator) -> None:
        """Fixed random recurrent connectivity with probability ``connection_probability``."""
        n, n_e = self.n_reservoir, int(self.n_excitatory)
        pre, post = np.nonzero(rng.random((n, n)) < float(self.connection_probability))
        keep = pre != post
        pre, post = pre[keep], post[keep]
        if pre.size:
            j = float(self.j_excitatory)
            w = np.where(pre < n_e, j, -float(self.g) * j)
            ids = np.asarray(reservoir.tolist())
            nest.Connect(ids[pre], ids[post], "one_to_one",
                         syn_spec={"weight": w, "delay": np.full(pre.size, DELAY)})
