"""l2l-netlogo: NetLogo models as l2l optimizees, and an ant colony foraging task steered by
spiking neural networks (NetLogo model plus an embedded, batched Python engine)."""

from __future__ import annotations

from .ants import AntColony
from .engine import Outcome, PythonEngine
from .model import NetLogoModel
from .network import hand_wired, n_synapses
from .render import render_colony
from .rules import Rules

__version__ = "0.1.0"

__all__ = ["AntColony", "NetLogoModel", "Outcome", "PythonEngine", "Rules", "hand_wired",
           "n_synapses", "render_colony"]
