"""Which plugin provided each part of a run: recorded with the run, used again to resume it.

A run's stored config keeps the tables as written (``[optimizer] name = "de"``) and adds a
``plugins`` table with the qualified name ``distribution:name`` of each registered part::

    "plugins": {"optimizee": "l2l-core:function", "optimizer": "l2l-mine:de",
                "executor": "l2l-core:process"}

so a second plugin registering ``de`` later does not make the run ambiguous. Runs stored before
this table existed resume by their short names; on a clash the user chooses
(``l2l resume RUN --optimizer l2l-mine:de``, or ``Experiment.resume(..., optimizer=...)``).
"""

from __future__ import annotations

from typing import Any, Mapping

from .plugins import Plugins

PARTS = ("optimizee", "optimizer", "executor")
DEFAULT_TABLES = {"executor": {"name": "serial"}}


def with_qualified_names(config: Mapping[str, Any], plugins: Plugins,
                         parts: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with its ``plugins`` table set from the part instances (``parts``: part →
    instance). A part is recorded when its class is registered under the name its table gives
    (a resume with another executor leaves the executor unrecorded)."""
    names: dict[str, str] = {}
    for part, obj in parts.items():
        qualified = plugins.qualified(part, type(obj))
        table_name = str(config.get(part, {}).get("name", ""))
        if qualified is not None and table_name.rpartition(":")[2] == qualified.rpartition(":")[2]:
            names[part] = qualified
    return {**config, "plugins": names}


def recorded_table(config: Mapping[str, Any], part: str, plugins: Plugins,
                   choice: str | None = None) -> dict[str, Any]:
    """The table that rebuilds a stored run's ``part``: its stored keyword arguments, and as
    name ``choice`` when given, else the qualified name the run recorded (checked: a
    :class:`~l2l.plugins.NameClash` says when that plugin is gone but others register the
    name), else the stored short name."""
    table = dict(config.get(part) or DEFAULT_TABLES.get(part, {}))
    recorded = (config.get("plugins") or {}).get(part)
    if choice is not None:
        table["name"] = choice
    elif recorded is not None:
        plugins.get_recorded(part, str(table.get("name", recorded)), recorded)
        table["name"] = recorded
    return table
