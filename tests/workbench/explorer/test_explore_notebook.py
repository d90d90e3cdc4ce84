"""`notebooks/explore_toy.ipynb`: committed stripped, its defaults are `ExploreSettings`', and it
runs under papermill with `interactive=False` and tiny budgets, showing three static figures."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import nbformat
import papermill

from workbench.host.kernels import IpcKernelManager
from workbench.explorer.exploration import ExploreSettings

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "explore_toy.ipynb"
TINY = {"interactive": False, "algorithm": "dsdpg_mmd", "lam": 0.5, "n_updates": 20,
        "batch_size": 16, "n_truth": 32, "grid": 4}


def _defaults() -> dict:
    found = papermill.inspect_notebook(str(NOTEBOOK))
    return {key: ast.literal_eval(p["default"]) for key, p in found.items()}


def test_the_notebook_is_committed_stripped_with_one_parameters_cell_and_its_kernel():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.metadata.kernelspec == {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}
    assert nb.metadata.language_info == {"name": "python"} and "papermill" not in nb.metadata
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0] and nb.cells[0].cell_type == "markdown"


def test_the_notebook_defaults_are_the_explore_settings_defaults():
    defaults = _defaults()
    assert defaults["interactive"] is True and defaults["threads"] == 1
    settings = ExploreSettings()
    for field in dataclasses.fields(ExploreSettings):
        if field.name in defaults:
            assert defaults[field.name] == getattr(settings, field.name), field.name
    assert (defaults["probe_x"], defaults["probe_y"]) == settings.probe


def test_papermill_runs_it_non_interactively_into_three_static_figures(tmp_path):
    output = tmp_path / "explore_toy.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(output), parameters=TINY, kernel_name="python3", cwd=str(tmp_path),
        progress_bar=False, execution_timeout=120, start_timeout=120,
        kernel_manager_class=IpcKernelManager)
    nb = nbformat.read(output, as_version=4)
    assert nb.metadata.papermill.exception is None
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "dsdpg_mmd: 20 critic updates" in text and "joint MMD² to the truth" in text
    plotly = [o.data["application/vnd.plotly.v1+json"] for o in outputs
              if "application/vnd.plotly.v1+json" in o.get("data", {})]
    titles = [json.loads(json.dumps(p))["layout"]["title"]["text"] for p in plotly]
    assert len(titles) == 3
    assert "λ=0.5" in titles[0] and "joint MMD² to truth:" in titles[0]
    assert titles[1].startswith("Critic's mean value") and titles[2] == "Critic loss (dsdpg_mmd)"
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for o in outputs)  # no widgets when not interactive
