"""``l2l new-plugin``: the generated package installs in a fresh environment, registers its
parts, and its own tests (the l2l conformance checks) pass."""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from l2l import ConfigError
from l2l.scaffold import new_plugin

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["", "Model", "my_model", "2fast", "a--b", "trailing-",
                                  "l2l-nest", "l2l", "with space", "x" * 41])
def test_invalid_names_are_config_errors(name, tmp_path):
    with pytest.raises(ConfigError, match="invalid plugin name"):
        new_plugin(name, tmp_path)


def test_existing_non_empty_target_is_refused(tmp_path):
    (tmp_path / "l2l-taken").mkdir()
    (tmp_path / "l2l-taken" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        new_plugin("taken", tmp_path)
    assert (tmp_path / "l2l-taken" / "keep.txt").read_text() == "mine"
    (tmp_path / "l2l-empty").mkdir()
    assert new_plugin("empty", tmp_path) == tmp_path / "l2l-empty"


@pytest.mark.parametrize("executor", [False, True])
def test_generated_files(executor, tmp_path):
    path = new_plugin("cortex-model", tmp_path / "new", executor=executor)
    assert path == tmp_path / "new" / "l2l-cortex-model"
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    expected = ["README.md", "examples/cortex-model.toml", "pyproject.toml",
                "src/l2l_cortex_model/__init__.py", "src/l2l_cortex_model/optimizee.py",
                "src/l2l_cortex_model/plugin.py", "tests/test_l2l_cortex_model_optimizee.py",
                "tox.ini"]
    if executor:
        expected += ["src/l2l_cortex_model/executor.py", "tests/test_l2l_cortex_model_executor.py"]
    assert files == sorted(expected)
    meta = tomllib.loads((path / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "l2l-cortex-model"
    assert meta["project"]["entry-points"]["l2l"] == {"l2l-cortex-model": "l2l_cortex_model.plugin"}
    assert any(d.startswith("l2l-core") for d in meta["project"]["dependencies"])
    assert "pytest>=8" in meta["project"]["optional-dependencies"]["test"]
    example = tomllib.loads((path / "examples" / "cortex-model.toml").read_text())
    assert example["optimizee"]["name"] == "cortex-model"
    assert example["executor"]["name"] == ("cortex-model-threads" if executor else "process")
    plugin = (path / "src" / "l2l_cortex_model" / "plugin.py").read_text()
    assert ("l2l_register_executors" in plugin) == executor
    for rel in files:
        f = path / rel
        text = f.read_text()
        assert "$" not in text and "__module__" not in text, f"unrendered placeholder in {f}"
        if f.suffix == ".py":
            py_compile.compile(str(f), cfile=str(tmp_path / "check.pyc"), doraise=True)
    readme = (path / "README.md").read_text()
    assert "`cortex-model`" in readme and ("cortex-model-threads" in readme) == executor


BUILD_WHEEL = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"


@pytest.mark.timeout(300)
def test_templates_are_package_data(tmp_path):
    """new-plugin must also work from a wheel of l2l-core, not only from a source checkout.

    The wheel is built by setuptools' PEP 517 backend (core's build backend, a dependency of its
    ``test`` extra) in a subprocess: no pip (uv-made environments have none) and no uv on PATH.
    """
    src = tmp_path / "core"
    shutil.copytree(ROOT / "core", src, ignore=shutil.ignore_patterns("*.egg-info", "build",
                                                                       "__pycache__"))
    dist = tmp_path / "dist"
    dist.mkdir()
    built = subprocess.run([sys.executable, "-c", BUILD_WHEEL, str(dist)], cwd=src,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    [wheel] = dist.glob("l2l_core-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = {n for n in z.namelist() if n.startswith("l2l/templates/plugin/")}
    shipped = {"l2l/" + str(p.relative_to(ROOT / "core" / "src" / "l2l"))
               for p in (ROOT / "core" / "src" / "l2l" / "templates" / "plugin").rglob("*.tmpl")}
    assert shipped and names == shipped, (
        "the plugin templates are missing from the l2l-core wheel: add "
        "'templates/plugin/**/*.tmpl' to [tool.setuptools.package-data] l2l")


def _fresh_venv(where: Path) -> tuple[Path, list[str], list[str]]:
    """A new virtual environment, the command that installs into it, and what makes its tox
    fast. With ``L2L_TEST_UV`` (the noxfile passes the uv that nox uses) uv builds it and tox
    runs with tox-uv; without, the standard library's venv (pip from ensurepip) and plain tox:
    nothing installed by hand is needed either way (no uv on PATH, no pip in this environment)."""
    venv = where / "venv"
    python = venv / "bin" / "python"
    uv = os.environ.get("L2L_TEST_UV")
    if uv and Path(uv).is_file():
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        return python, [uv, "pip", "install", "-q", "--python", str(python)], ["tox-uv"]
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    return python, [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"], []


@pytest.mark.timeout(300)
def test_generated_plugin_installs_registers_and_passes_its_tests(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "L2L_STRICT_PLUGINS")}
    python, install, tox_extras = _fresh_venv(tmp_path)
    subprocess.run(install + ["-e", str(ROOT / "core")], check=True, env=env)
    bindir = python.parent
    subprocess.run([str(bindir / "l2l"), "new-plugin", "demo", "--dir", str(tmp_path), "--executor"],
                   check=True, env=env)
    package = tmp_path / "l2l-demo"
    subprocess.run(install + [f"{package}[test]"], check=True, env=env)

    listed = subprocess.run([str(bindir / "l2l"), "list-plugins", "--json"], check=True,
                            capture_output=True, text=True, env=env)
    infos = {i["name"]: i for i in json.loads(listed.stdout)}
    assert infos["l2l-demo"]["status"] == "ok", infos["l2l-demo"]["error"]
    assert infos["l2l-demo"]["version"] == "0.1.0"
    assert infos["l2l-demo"]["optimizees"] == ["demo"]
    assert infos["l2l-demo"]["executors"] == ["demo-threads"]
    assert infos["l2l-core"]["status"] == "ok"

    tests = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=package, capture_output=True, text=True, env=env)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "7 passed" in tests.stdout

    # the generated tox.ini runs the same tests in an environment of its own
    subprocess.run(install + ["tox>=4", *tox_extras], check=True, env=env)
    tox = subprocess.run([str(bindir / "tox"), "run", "-e", "py"], cwd=package, capture_output=True,
                         text=True, env={**env, "L2L_CORE": str(ROOT / "core")})
    assert tox.returncode == 0, tox.stdout[-3000:] + tox.stderr[-2000:]
    assert "7 passed" in tox.stdout and "py: OK" in tox.stdout
