"""Packaging: pyproject and environment.yml agree; the public API is documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import tomllib
from pathlib import Path

import yaml

import dvg_core
import workbench

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["test"]


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = env["dependencies"]
    assert "python=3.11" in conda
    pip_section = next(d["pip"] for d in conda if isinstance(d, dict) and "pip" in d)
    assert sorted(pip_section) == sorted(_pyproject_requirements())


def test_torch_is_pinned_exactly():
    assert "torch==2.13.0" in _pyproject_requirements()


def _public_modules(package):
    yield package
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            yield importlib.import_module(info.name)


def test_every_public_symbol_has_a_docstring():
    missing = []
    for package in (dvg_core, workbench):
        for module in _public_modules(package):
            if not module.__doc__:
                missing.append(module.__name__)
            for name in getattr(module, "__all__", []):
                obj = getattr(module, name)
                if (inspect.isfunction(obj) or inspect.isclass(obj)) and not obj.__doc__:
                    missing.append(f"{module.__name__}.{name}")
    assert not missing, f"public symbols without a docstring: {missing}"


def test_dvg_core_does_not_import_the_workbench_layer():
    forbidden = ("workbench", "plotly", "ipywidgets", "papermill", "jupyter")
    offenders = []
    for path in (ROOT / "dvg_core").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                module = stripped.split()[1]
                if module.split(".")[0] in forbidden:
                    offenders.append(f"{path.name}: {stripped}")
    assert not offenders, offenders
