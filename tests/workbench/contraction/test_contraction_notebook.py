"""notebooks/contraction.ipynb: committed stripped with its parameters, and executed by papermill
with `interactive=False` and tiny budgets (as the batch runner executes notebooks: an ipc
kernel, a per-cell timeout)."""

from __future__ import annotations

import ast
import re

import nbformat
import papermill
import pytest
from tests.workbench.notebook.test_notebooks import NOTEBOOKS, _unstripped

from workbench.host.kernels import IpcKernelManager

NOTEBOOK = NOTEBOOKS / "contraction.ipynb"
TINY = {"interactive": False, "gammas": [0.3, 0.6, 0.9], "gains": [0.5, 2.0], "n_rows": 2,
        "n_samples": 8, "toy_gains": [1.0, 3.0], "n_probes": 4}
TITLES = ["Linear system: gain 1.0, dt 0.5", "Linear system: measured factor over (γ, κ)",
          "Plain MMD² against max-sliced MMD²", "Toy: gain 2.0, dt 1.0, λ 100.0",
          "Toy: measured factor over (γ, κ)"]


def test_contraction_notebook_is_stripped_and_declares_its_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert _unstripped(nb) == []
    assert nb.cells[0].cell_type == "markdown"
    found = papermill.inspect_notebook(str(NOTEBOOK))
    defaults = {key: ast.literal_eval(p["default"]) for key, p in found.items()}
    assert defaults["interactive"] is True and defaults["seed"] == 0
    assert set(TINY) <= set(defaults)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    output = tmp_path_factory.mktemp("contraction") / "out.ipynb"
    papermill.execute_notebook(
        NOTEBOOK, output, parameters=TINY, kernel_name="python3", cwd=str(output.parent),
        progress_bar=False, execution_timeout=120, start_timeout=120,
        kernel_manager_class=IpcKernelManager)
    return nbformat.read(output, as_version=4)


def _outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if kind in o.get("data", {}) or (kind == "stream" and o.output_type == "stream")]


def test_notebook_runs_without_widgets_and_draws_every_figure(executed):
    assert executed.metadata.papermill.exception is None
    figures = [o.data["application/vnd.plotly.v1+json"] for o in
               _outputs(executed, "application/vnd.plotly.v1+json")]
    assert [f["layout"]["title"]["text"] for f in figures] == TITLES
    assert not _outputs(executed, "application/vnd.jupyter.widget-view+json")


def test_notebook_prints_l_matching_autograd(executed):
    text = "".join(o.text for o in _outputs(executed, "stream"))
    residual = float(re.search(r"max \|autograd backup - \(b \+ L x'\)\| = (\S+)", text)[1])
    assert residual < 1e-12
