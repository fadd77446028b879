"""Allen Cell Types "all-active" fits (``fit.json``) as settings of the cell.

The genome becomes mechanisms painted per region and settings in the grammar of
:mod:`l2l_arbor.settings` (``NaV.gbar@soma``, ``pas.e@dend``, ``cm@axon``, ...); the
conditions give temperature, initial potential and reversal potentials. Every genome entry is
thus a setting a free parameter can take over.

One such cell ships with the package (:data:`ALLEN_CELL`, :data:`ALLEN_FIT`; source and licence
in ``data/allen/NOTICE.md``): a mouse L5 neuron of the Rbp4-Cre line from the Allen Cell Types
Database, as distributed with Arbor's Python examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from l2l import ConfigError

#: the folder of the packaged Allen cell (with NOTICE.md: where it comes from, its licence)
ALLEN_DATA = Path(str(files("l2l_arbor") / "data" / "allen"))
#: its morphology (SWC) and its published all-active fit
ALLEN_CELL = str(ALLEN_DATA / "cell.swc")
ALLEN_FIT = str(ALLEN_DATA / "fit.json")


@dataclass
class AllenFit:
    """What a fit file contributes to a cell."""

    mechanisms: list[tuple[str, str]] = field(default_factory=list)  # (region, mechanism)
    settings: dict[str, float] = field(default_factory=dict)
    ions: dict[str, dict[str, float | str]] = field(default_factory=dict)
    junction_potential: float = 0.0


def read_allen_fit(path: str) -> AllenFit:
    """Parse an Allen fit file; ConfigError names what is missing or malformed."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"allen_fit {str(p)!r} does not exist")
    try:
        data = json.loads(p.read_text())
        genome = data["genome"]
        conditions = data["conditions"][0]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
        raise ConfigError(f"allen_fit {str(p)!r}: not an Allen fit file "
                          f"({type(exc).__name__}: {exc})") from None
    fit = AllenFit()
    fit.settings["ra"] = float(data.get("passive", [{}])[0].get("ra", 100.0))
    fit.settings["temperature"] = float(conditions["celsius"])
    fit.settings["v_init"] = float(conditions["v_init"])
    for erev in conditions.get("erev", []):
        region = erev["section"]
        for key, value in erev.items():
            if key != "section":
                fit.settings[f"e_{key[1:]}@{region}"] = float(value)
    for gene in genome:
        region, name, value = gene["section"], gene["name"], float(gene["value"])
        mech = gene["mechanism"] or "pas"
        if mech == "pas" and name in ("cm", "Ra"):
            fit.settings[f"{name.lower()}@{region}"] = value
            continue
        if not name.endswith("_" + mech):
            raise ConfigError(f"allen_fit {str(p)!r}: genome entry {name!r} does not end in _{mech}")
        if (region, mech) not in fit.mechanisms:
            fit.mechanisms.append((region, mech))
        fit.settings[f"{mech}.{name[:-len(mech) - 1]}@{region}"] = value
    # calcium: Nernst reversal from concentrations, as Allen's NEURON models do
    fit.ions["ca"] = {"int_con": 5e-5, "ext_con": 2.0, "method": "nernst/x=ca"}
    fitting = data.get("fitting", [{}])
    fit.junction_potential = float(fitting[0].get("junction_potential", 0.0)) if fitting else 0.0
    return fit
