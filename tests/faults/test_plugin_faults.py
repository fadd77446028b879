"""Plugins that misbehave while they are discovered: SystemExit or a KeyboardInterrupt of their
own at import is that plugin's failure (the user's Ctrl-C still stops l2l), and a plugin whose
registration hook raises is taken out completely (no half-registered names or hooks)."""

from __future__ import annotations

import importlib.metadata as md
import os
import signal
import textwrap
import threading

import pytest

from l2l import Optimizee, hookimpl
from l2l.plugins import Plugins


def entry_point(tmp_path, monkeypatch, name: str, source: str) -> md.EntryPoint:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return md.EntryPoint(name=name, value=name, group="l2l")


@pytest.mark.parametrize("body, reported", [
    ("import sys\nsys.exit(3)\n", "SystemExit raised while importing the plugin (3)"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt raised while importing the plugin"),
])
def test_exits_and_interrupts_raised_at_import_are_the_plugins_failure(tmp_path, monkeypatch, body, reported):
    plugins = Plugins(discover=False, strict=False)
    plugins._load_entry_point(entry_point(tmp_path, monkeypatch, f"bad_{len(body)}", body))
    (info,) = plugins.infos
    assert info.status == "failed" and info.error == reported


def test_the_users_ctrl_c_during_discovery_still_stops(tmp_path, monkeypatch):
    ep = entry_point(tmp_path, monkeypatch, "slow_plugin", """
        import time
        time.sleep(5)
    """)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            Plugins(discover=False, strict=False)._load_entry_point(ep)
    finally:
        timer.cancel()


class First(Optimizee):
    pass


class Second(Optimizee):
    pass


class HalfRegistering:
    """Registers one optimizee, then fails."""

    @hookimpl
    def l2l_register_optimizees(self, registry):
        registry.add("first-of-two", First)
        raise RuntimeError("the second class is missing")

    @hookimpl
    def l2l_run_start(self, run):
        raise AssertionError("hooks of a failed plugin must not run")


class Exiting:
    @hookimpl
    def l2l_register_optimizees(self, registry):
        registry.add("exiting-one", Second)
        raise SystemExit(2)


@pytest.mark.parametrize("plugin, name", [(HalfRegistering(), "first-of-two"), (Exiting(), "exiting-one")])
def test_a_failed_registration_leaves_nothing_registered(plugin, name):
    plugins = Plugins(discover=False, strict=False)
    info = plugins.register(plugin, "half")
    assert info.status == "failed" and "l2l_register_optimizees" in info.error
    assert name not in plugins.names("optimizees") and info.optimizees == []
    assert plugins.pm.get_plugins() == set()
    plugins.hook.l2l_run_start(run=None)  # the failed plugin's hooks are gone
