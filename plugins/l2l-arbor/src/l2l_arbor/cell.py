"""The cell model: morphology, catalogue, painted mechanisms and settings → Arbor cable cells.

:class:`CellModel` is built once per process from the optimizee's configuration and checked
there (every setting must name an existing region, a painted mechanism and one of its
parameters); :meth:`CellModel.cell` then makes a cable cell for one set of values and one
current-clamp step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from l2l import ConfigError

from .allen import read_allen_fit
from .morphology import BALL_AND_STICK, ball_and_stick, load_morphology
from .settings import Setting, parse_setting, region_expression

BUNDLED = ("default", "allen", "bbp", "stochastic")
ION_KEYS = ("int_con", "ext_con", "rev_pot", "method")


@dataclass(frozen=True)
class Step:
    """A current-clamp step (nA, ms) injected at an Arbor locset."""

    amplitude: float
    start: float
    duration: float
    location: str


def load_catalogues(props: Any, specs: Sequence[str | Mapping[str, str]]) -> None:
    """Extend ``props.catalogue`` (which holds Arbor's default catalogue) with bundled
    catalogues by name or user catalogues (``.so`` from ``arbor-build-catalogue``) by path;
    an entry may be a table ``{catalogue = ..., prefix = ...}``."""
    import arbor as A

    for spec in specs:
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"catalogue", "prefix"})
            if unknown or "catalogue" not in spec:
                raise ConfigError(f"catalogue {dict(spec)!r}: use {{catalogue = NAME_OR_PATH, prefix = STR}}")
            name, prefix = str(spec["catalogue"]), str(spec.get("prefix", ""))
        else:
            name, prefix = str(spec), ""
        if name in BUNDLED:
            cat = getattr(A, f"{name}_catalogue")()
        elif name.endswith(".so"):
            if not Path(name).is_file():
                raise ConfigError(f"catalogue {name!r} does not exist (build it with arbor-build-catalogue)")
            try:
                cat = A.load_catalogue(name)
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"catalogue {name!r} cannot be loaded: {exc}") from None
        else:
            raise ConfigError(f"unknown catalogue {name!r} (use {', '.join(BUNDLED)} or a path to a .so)")
        props.catalogue.extend(cat, prefix)


class CellModel:
    """A validated cell description; see :class:`l2l_arbor.ArborCell` for the keys."""

    def __init__(self, *, morphology: str, swc_flavour: str, geometry: Mapping[str, float] | None,
                 catalogues: Sequence[Any], mechanisms: Sequence[Mapping[str, Any]],
                 settings: Mapping[str, float], ions: Mapping[str, Mapping[str, Any]],
                 allen_fit: str | None, cv_policy: str | float):
        import arbor as A

        if morphology == BALL_AND_STICK:
            self.morphology, self.labels = ball_and_stick(geometry)
        else:
            if geometry:
                raise ConfigError("geometry applies only to morphology = 'ball-and-stick'")
            self.morphology, self.labels = load_morphology(morphology, swc_flavour)
        self.props = A.neuron_cable_properties()
        fit = read_allen_fit(allen_fit) if allen_fit else None
        load_catalogues(self.props, (["allen"] if fit else []) + list(catalogues))
        self.catalogue = self.props.catalogue
        self.junction_potential = fit.junction_potential if fit else 0.0

        # painted mechanisms: (region, mechanism) -> fixed parameter values
        self.painted: dict[tuple[str, str], dict[str, float]] = {}
        self.fixed: dict[Setting, float] = {}
        for region, mech in (fit.mechanisms if fit else []):
            self._paint(region, mech, {})
        for entry in mechanisms:
            entry = dict(entry)
            region, mech = entry.pop("region", None), entry.pop("mechanism", None)
            if not isinstance(region, str) or not isinstance(mech, str):
                raise ConfigError(f"mechanisms: each entry needs 'region' and 'mechanism', got {dict(entry)}")
            self._paint(region, mech, entry)
        for text, value in {**(fit.settings if fit else {}), **dict(settings)}.items():
            setting = parse_setting(text)
            self.check(setting)
            self.fixed[setting] = _number(value, f"settings[{text!r}]")
        self.ions = {**(fit.ions if fit else {}), **{k: dict(v) for k, v in ions.items()}}
        for ion, spec in self.ions.items():
            bad = sorted(set(spec) - set(ION_KEYS))
            if bad:
                raise ConfigError(f"ions.{ion}: unknown key(s) {bad} (accepted: {', '.join(ION_KEYS)})")
        try:
            self.cv_policy = A.cv_policy_max_extent(float(cv_policy) * A.units.um) \
                if isinstance(cv_policy, (int, float)) else A.cv_policy(str(cv_policy))
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"cv_policy {cv_policy!r}: {exc}") from None

    def _paint(self, region: str, mech: str, params: Mapping[str, Any]) -> None:
        self._check_region(region, f"mechanism {mech!r}")
        if mech not in self.catalogue:
            raise ConfigError(f"mechanism {mech!r} is not in the loaded catalogues "
                              f"(add its catalogue to 'catalogues')")
        if (region, mech) in self.painted:
            raise ConfigError(f"mechanism {mech!r} is painted twice on region {region!r}")
        self.painted[(region, mech)] = {}
        for name, value in params.items():
            setting = Setting("mechanism", name, region, mech)
            self.check(setting)
            self.fixed[setting] = _number(value, f"mechanisms: {setting}")

    def _check_region(self, region: str, what: str) -> None:
        if region != "all" and region not in self.labels:
            raise ConfigError(f"{what}: unknown region {region!r} (known: all, "
                              f"{', '.join(sorted(self.labels.keys()))})")

    def check(self, setting: Setting) -> None:
        """ConfigError unless ``setting`` can be applied to this cell."""
        if setting.region is not None:
            self._check_region(setting.region, f"setting {str(setting)!r}")
        if setting.kind != "mechanism":
            return
        if (setting.region, setting.mechanism) not in self.painted:
            raise ConfigError(f"setting {str(setting)!r}: mechanism {setting.mechanism!r} is not "
                              f"painted on {setting.region!r} (add it to 'mechanisms')")
        info = self.catalogue[setting.mechanism]
        known = set(info.parameters.keys()) | set(info.globals.keys())
        if setting.name not in known:
            raise ConfigError(f"setting {str(setting)!r}: {setting.mechanism} has no parameter "
                              f"{setting.name!r} (known: {', '.join(sorted(known))})")

    def check_locset(self, expression: str, what: str) -> None:
        """ConfigError unless the locset ``expression`` names at least one location."""
        import arbor as A

        try:
            found = A.cable_cell(self.morphology, A.decor(), self.labels).locations(expression)
        except Exception as exc:  # noqa: BLE001 - Arbor's parse and label errors
            raise ConfigError(f"{what} {expression!r}: {exc}") from None
        if not found:
            raise ConfigError(f"{what} {expression!r} names no location on this cell")

    def default(self, setting: Setting) -> float:
        """The value ``setting`` has when nothing overrides it."""
        if setting in self.fixed:
            return self.fixed[setting]
        if setting.kind == "mechanism":
            info = self.catalogue[setting.mechanism]
            table = info.parameters if setting.name in info.parameters else info.globals
            return float(table[setting.name].default)
        cell_wide = Setting(setting.kind, setting.name)
        if setting.region is not None and cell_wide in self.fixed:
            return self.fixed[cell_wide]
        if setting.kind == "reversal":
            ion = self.props.ions.get(setting.name)
            if ion is None:
                raise ConfigError(f"setting {str(setting)!r}: ion {setting.name!r} is unknown")
            return float(ion.reversal_potential)
        p = self.props
        return {"cm": p.membrane_capacitance * 100.0, "ra": p.axial_resistivity,
                "v_init": p.membrane_potential, "temperature": p.temperature - 273.15}[setting.name]

    def cell(self, values: Mapping[Setting, float], step: Step) -> Any:
        """An Arbor cable cell with ``values`` over the fixed settings and one clamp step."""
        import arbor as A
        from arbor import units as U

        merged = {**self.fixed, **values}
        decor = A.decor()
        for ion, spec in self.ions.items():
            kw: dict[str, Any] = {}
            for key, unit in (("int_con", U.mM), ("ext_con", U.mM), ("rev_pot", U.mV)):
                if key in spec:
                    kw[key] = float(spec[key]) * unit
            if "method" in spec:
                kw["method"] = A.mechanism(str(spec["method"]))
            decor.set_ion(ion, **kw)
        mech_values: dict[tuple[str, str], dict[str, float]] = {k: {} for k in self.painted}
        for s, v in merged.items():
            if s.kind == "mechanism":
                mech_values[(str(s.region), str(s.mechanism))][s.name] = v
            elif s.kind == "reversal":
                if s.region is None:
                    decor.set_ion(s.name, rev_pot=v * U.mV)
                else:
                    decor.paint(region_expression(s.region), ion=s.name, rev_pot=v * U.mV)
            elif s.region is None:
                decor.set_property(**_property(s.name, v))
            else:
                decor.paint(region_expression(s.region), **_property(s.name, v))
        for (region, mech), params in mech_values.items():
            info = self.catalogue[mech]
            glob = {k: v for k, v in params.items() if k in info.globals}
            name = mech + ("/" + ",".join(f"{k}={v!r}" for k, v in sorted(glob.items())) if glob else "")
            rng = {k: v for k, v in params.items() if k not in glob}
            decor.paint(region_expression(region), A.density(A.mechanism(name, rng)))
        if step.amplitude != 0.0 and step.duration > 0:
            decor.place(step.location, A.i_clamp(step.start * U.ms, step.duration * U.ms,
                                                 step.amplitude * U.nA))
        return A.cable_cell(self.morphology, decor, self.labels, self.cv_policy)


def _property(name: str, value: float) -> dict[str, Any]:
    from arbor import units as U

    if name == "cm":
        return {"cm": value * U.uF / U.cm2}
    if name == "ra":
        return {"rL": value * U.Ohm * U.cm}
    if name == "v_init":
        return {"Vm": value * U.mV}
    return {"tempK": value * U.Celsius}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {value!r} should be a number")
    return float(value)
