"""The hook reference is complete and generated: every hook has a docstring with an example,
docs/hooks.md matches the generator, and the plugin authors' guide covers every hook."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from l2l import hookdoc, hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = hookdoc.hooks()


def test_all_hooks_are_found():
    names = {h.__name__ for h in HOOKS}
    assert names == {n for n in dir(hookspecs) if n.startswith("l2l_")}
    assert {"l2l_register_optimizees", "l2l_generation_done", "l2l_report_figures"} <= names


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_hook_has_docstring_with_example(hook):
    doc = inspect.getdoc(hook)
    assert doc, f"hook {hook.__name__} has no docstring"
    assert "\nExample::\n" in doc, f"hook {hook.__name__}: its docstring lacks an 'Example::' section"
    example = doc.split("\nExample::\n", 1)[1]
    assert "@hookimpl" in example and f"def {hook.__name__}(" in example, (
        f"hook {hook.__name__}: the example should show an @hookimpl implementation")


def test_hooks_md_is_up_to_date():
    current = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert current == hookdoc.render(), (
        "docs/hooks.md is out of date: run python -m l2l.hookdoc docs/hooks.md")


def test_rendered_reference_holds_every_hook():
    text = hookdoc.render()
    for hook in HOOKS:
        assert f"## {hook.__name__}\n" in text
        assert f"def {hookdoc.signature(hook)}:" in text
    assert text.count("**Example**") == len(HOOKS)
    assert "```python\n@hookimpl\ndef l2l_report_figures(optimizee_name: str" in text


def test_check_mode_detects_a_stale_file(tmp_path):
    stale = tmp_path / "hooks.md"
    stale.write_text("# old\n")
    assert hookdoc.main(["--check", str(stale)]) == 1
    assert hookdoc.main([str(stale)]) == 0
    assert hookdoc.main(["--check", str(stale)]) == 0


def test_plugin_authors_guide_covers_every_hook():
    guide = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
    assert "```mermaid" in guide
    for hook in HOOKS:
        assert hook.__name__ in guide, f"docs/plugin-authors.md does not mention {hook.__name__}"


def _example(hook) -> str:
    import textwrap

    return textwrap.dedent(inspect.getdoc(hook).split("\nExample::\n", 1)[1])


def test_lifecycle_examples_run_also_when_a_whole_generation_fails(capsys):
    """The examples of the run hooks, executed as a plugin: a generation in which every
    evaluation fails must not break them, and every status is documented."""
    from l2l import Experiment, build, builtins, hookimpl
    from l2l.plugins import Plugins
    from core_parts import Trouble

    ended: list[str] = []
    namespace = {"hookimpl": hookimpl, "notify": ended.append}
    for name in ("l2l_run_start", "l2l_generation_done", "l2l_run_end"):
        exec(_example(getattr(hookspecs, name)), namespace)  # noqa: S102 - our own docstrings
    plugin = type("Examples", (), {k: staticmethod(namespace[k]) for k in
                                   ("l2l_run_start", "l2l_generation_done", "l2l_run_end")})
    plugins = Plugins(discover=False)
    plugins.register(builtins, "l2l-core")
    plugins.register(plugin, "examples")
    # every evaluation raises (x < 2 on [0, 1])
    result = Experiment(Trouble(raise_below=2.0), build("optimizer", "random", population=3),
                        generations=2, plugins=plugins).run()
    assert result.status == "finished" and result.best is None
    out = capsys.readouterr().out
    assert "generation 0: best loss -, 3 failed" in out and "starts at generation 0" in out
    assert ended == ["Trouble: finished"]
    doc = inspect.getdoc(hookspecs.l2l_run_end)
    for status in ("finished", "stopped", "failed", "interrupted"):
        assert f'``"{status}"``' in doc
