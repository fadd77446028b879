"""Morphologies: files Arbor reads (SWC, NeuroML, Neurolucida ASC) or a built-in ball-and-stick.

Region labels ``soma``, ``axon``, ``dend`` and ``apic`` come from the SWC tags 1-4 (the
ball-and-stick uses tags 1 and 3), plus whatever labels the file itself defines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from l2l import ConfigError

BALL_AND_STICK = "ball-and-stick"
#: defaults of the built-in cell (µm); ``dend_length = 0`` gives a one-compartment ball
GEOMETRY = {"soma_radius": 10.0, "dend_length": 200.0, "dend_radius": 0.5}


def ball_and_stick(geometry: Mapping[str, float] | None = None) -> tuple[Any, Any]:
    """A cylindrical soma (length = diameter, tag 1) with an optional dendrite (tag 3)."""
    import arbor as A

    geo = dict(GEOMETRY)
    unknown = sorted(set(geometry or {}) - set(GEOMETRY))
    if unknown:
        raise ConfigError(f"geometry: unknown key(s) {unknown} (accepted: {sorted(GEOMETRY)})")
    geo.update({k: float(v) for k, v in (geometry or {}).items()})
    if geo["soma_radius"] <= 0 or geo["dend_radius"] <= 0 or geo["dend_length"] < 0:
        raise ConfigError(f"geometry: radii must be positive and the length non-negative, got {geo}")
    r = geo["soma_radius"]
    tree = A.segment_tree()
    soma = tree.append(A.mnpos, A.mpoint(-r, 0, 0, r), A.mpoint(r, 0, 0, r), tag=1)
    if geo["dend_length"] > 0:
        rd = geo["dend_radius"]
        tree.append(soma, A.mpoint(r, 0, 0, rd), A.mpoint(r + geo["dend_length"], 0, 0, rd), tag=3)
    return A.morphology(tree), A.label_dict().add_swc_tags()


def load_morphology(path: str, swc_flavour: str = "neuron") -> tuple[Any, Any]:
    """Morphology and label dictionary of a file: ``.swc`` (``swc_flavour`` "neuron" or
    "arbor" interpretation), ``.asc`` (Neurolucida) or ``.nml`` (first morphology in the file)."""
    import arbor as A

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"morphology file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".swc":
            if swc_flavour not in ("neuron", "arbor"):
                raise ConfigError(f"swc_flavour {swc_flavour!r}: use 'neuron' or 'arbor'")
            loaded = A.load_swc_neuron(str(p)) if swc_flavour == "neuron" else A.load_swc_arbor(str(p))
        elif suffix == ".asc":
            loaded = A.load_asc(str(p))
        elif suffix == ".nml":
            nml = A.neuroml(str(p))
            ids = nml.morphology_ids()
            if not ids:
                raise ConfigError(f"morphology file {str(p)!r}: no morphology in the NeuroML file")
            loaded = nml.morphology(ids[0], allow_spherical_root=True)
        else:
            raise ConfigError(f"morphology file {str(p)!r}: unknown format (use .swc, .asc or .nml)")
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - Arbor's parse errors, reported as config errors
        raise ConfigError(f"morphology file {str(p)!r}: {exc}") from None
    labels = A.label_dict().add_swc_tags()
    labels.update(loaded.labels)
    return loaded.morphology, labels
