"""What a value sets on a cell: the small grammar shared by fixed settings and free parameters.

========================  ===============================================  ==========
written as                sets                                             unit
========================  ===============================================  ==========
``MECH.PARAM@REGION``     parameter PARAM of density mechanism MECH        the NMODL's
``cm`` / ``cm@REGION``    membrane capacitance (cell default / region)     µF/cm²
``ra`` / ``ra@REGION``    axial resistivity                                Ω·cm
``v_init[@REGION]``       initial membrane potential                       mV
``temperature[@REGION]``  temperature                                      °C
``e_ION[@REGION]``        reversal potential of ION (``e_na``, ``e_k``)     mV
========================  ===============================================  ==========

REGION is a region label (``soma``, ``axon``, ``dend``, ``apic`` from SWC tags, ``all``, or
any label of the morphology file). A mechanism parameter always names its region: the
mechanism must be painted there (by ``mechanisms`` or an Allen fit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from l2l import ConfigError

PROPERTIES = ("cm", "ra", "v_init", "temperature")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, order=True)
class Setting:
    """One settable quantity of a cell; ``region`` None means the cell-wide default."""

    kind: str  # "mechanism", "property" or "reversal"
    name: str  # mechanism parameter, property name or ion
    region: str | None = None
    mechanism: str | None = None

    def __str__(self) -> str:
        where = "" if self.region is None else f"@{self.region}"
        if self.kind == "mechanism":
            return f"{self.mechanism}.{self.name}{where}"
        if self.kind == "reversal":
            return f"e_{self.name}{where}"
        return f"{self.name}{where}"


def parse_setting(text: str) -> Setting:
    """Parse ``"NaTs.gbar@soma"``, ``"cm@dend"``, ``"e_k"``, ... into a :class:`Setting`."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"setting {text!r}: expected a string such as 'hh.gnabar@soma' or 'cm'")
    what, at, region = text.strip().partition("@")
    if at and not _NAME.match(region):
        raise ConfigError(f"setting {text!r}: bad region name {region!r}")
    region_or_none = region if at else None
    if "." in what:
        mech, _, param = what.rpartition(".")
        if not mech or not _NAME.match(param):
            raise ConfigError(f"setting {text!r}: write a mechanism parameter as MECH.PARAM@REGION")
        if region_or_none is None:
            raise ConfigError(f"setting {text!r}: a mechanism parameter needs a region (@REGION)")
        return Setting("mechanism", param, region_or_none, mech)
    if what in PROPERTIES:
        return Setting("property", what, region_or_none)
    if what.startswith("e_") and _NAME.match(what[2:]):
        return Setting("reversal", what[2:], region_or_none)
    raise ConfigError(f"setting {text!r}: unknown quantity {what!r} (use MECH.PARAM@REGION, "
                      f"{', '.join(PROPERTIES)}, or e_ION)")


def region_expression(region: str) -> str:
    """The Arbor region expression of a region name (``all`` is the whole cell)."""
    return "(all)" if region == "all" else f'"{region}"'
