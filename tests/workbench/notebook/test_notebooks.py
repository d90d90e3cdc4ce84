"""The committed notebooks (parameters, stripped, kernel metadata) and the functions they call:
parameters -> config, seed statistics, figures. Executing them: tests/workbench/grid/test_batch.py."""

from __future__ import annotations

import ast
import copy
import math
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
import torch

from workbench.report import plots
from workbench.config.presets import preset
from workbench.config.notebook_parameters import TRAIN_PARAMETERS, config_from_parameters

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
BOTH = ["train.ipynb", "report.ipynb"]
ALL = ["train.ipynb", "report.ipynb", "explore_toy.ipynb", "fidelity.ipynb",
       "contraction.ipynb", "model_fidelity.ipynb"]


def _defaults(name: str) -> dict:
    found = papermill.inspect_notebook(str(NOTEBOOKS / name))
    return {key: ast.literal_eval(p["default"]) for key, p in found.items()}


def _unstripped(nb: nbformat.NotebookNode) -> list[str]:
    """What makes a notebook unfit to commit: outputs, execution counts, missing kernel info."""
    problems = [f"cell {c.get('id')}: {what}" for c in nb.cells if c.cell_type == "code"
                for what, bad in (("outputs", c.get("outputs")),
                                  ("execution_count", c.get("execution_count") is not None))
                if bad]
    spec, info = nb.metadata.get("kernelspec", {}), nb.metadata.get("language_info", {})
    if (spec.get("name"), spec.get("display_name"), spec.get("language")) != (
            "python3", "Python 3", "python"):
        problems.append(f"kernelspec {spec}")
    if info.get("name") != "python":
        problems.append(f"language_info {info}")
    if "papermill" in nb.metadata:
        problems.append("papermill metadata")
    return problems


def test_train_notebook_declares_exactly_the_documented_parameters():
    assert _defaults("train.ipynb") == TRAIN_PARAMETERS
    assert list(_defaults("train.ipynb")) == list(TRAIN_PARAMETERS)


def test_report_notebook_is_parameterised_by_the_experiment_directory():
    assert _defaults("report.ipynb") == {"experiment_dir": "runs/toy", "device": "auto"}


@pytest.mark.parametrize("name", ALL)
def test_every_notebook_takes_a_device_parameter_defaulting_to_auto(name):
    found = papermill.inspect_notebook(str(NOTEBOOKS / name))
    assert ast.literal_eval(found["device"]["default"]) == "auto"
    assert "cpu" in found["device"]["help"]  # its comment says what it accepts


def test_the_device_parameter_becomes_the_configs_device():
    assert config_from_parameters(device="cuda:1").device == "cuda:1"
    assert config_from_parameters().device == "auto"


@pytest.mark.parametrize("name", ["report.ipynb", "fidelity.ipynb", "contraction.ipynb"])
def test_a_bad_device_stops_a_notebook_at_its_first_step(tmp_path, name, monkeypatch):
    """The notebooks that train nothing through a config still check `device` up front."""
    from workbench.host.kernels import IpcKernelManager

    output = tmp_path / name
    with pytest.raises(papermill.PapermillExecutionError, match="device must be") as err:
        papermill.execute_notebook(
            NOTEBOOKS / name, output, parameters={"device": "gpu"}, kernel_name="python3",
            cwd=str(tmp_path), progress_bar=False, execution_timeout=120, start_timeout=120,
            kernel_manager_class=IpcKernelManager)
    assert err.value.ename == "ValueError"
    first_code = next(c for c in nbformat.read(output, as_version=4).cells
                      if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
                      and "injected-parameters" not in c.metadata.get("tags", []))
    assert first_code.outputs and first_code.outputs[-1].output_type == "error"


def test_a_cpu_only_notebook_refuses_a_gpu_rather_than_ignoring_it():
    from workbench.train.devices import use_cpu_device, use_device

    assert use_cpu_device("auto", why="x") == use_cpu_device("cpu", why="x") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"device must be 'auto' or 'cpu' in this notebook "
                                         r"\(its work is on the CPU\), got 'cuda'"):
        use_cpu_device("cuda", why="its work is on the CPU")
    with pytest.raises(ValueError, match="device must be one of"):
        use_cpu_device("gpu", why="x")
    assert use_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", BOTH)
def test_committed_notebook_is_stripped_and_names_its_kernel(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert _unstripped(nb) == []
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assert nb.cells[0].cell_type == "markdown"  # framed by prose


@pytest.mark.parametrize("name", BOTH)
def test_the_stripped_check_catches_outputs_counts_and_missing_kernel(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    with_output = copy.deepcopy(nb)
    with_output.cells[code].outputs = [nbformat.v4.new_output("stream", text="hi")]
    counted = copy.deepcopy(nb)
    counted.cells[code].execution_count = 3
    no_kernel = copy.deepcopy(nb)
    del no_kernel.metadata["kernelspec"]
    no_language = copy.deepcopy(nb)
    del no_language.metadata["language_info"]
    for bad in (with_output, counted, no_kernel, no_language):
        assert _unstripped(bad)


def test_default_parameters_give_the_preset_itself():
    assert config_from_parameters() == preset("toy-quick")


def test_parameters_become_the_same_overrides_as_the_train_command():
    config = config_from_parameters(algo="td3", n_locations=5, lam=0.5, gamma=0.8, samples=6,
                                    seed=2, steps=1000, model="oracle", noise="dynamics",
                                    noise_scale=0.1, experiment="e", run_root="r",
                                    overrides=["loop.utd=3", "seed=4"])
    expected = preset("toy-quick", [
        "algo=td3", "n_locations=5", "lam=0.5", "gamma=0.8", "samples=6", "steps=1000",
        "model=oracle", "noise=dynamics", "noise_scale=0.1", "experiment=e", "run_root=r",
        "loop.utd=3", "seed=4"])
    assert config == expected
    assert (config.seed, config.env.kwargs["n_locations"], config.loop.utd) == (4, 5, 3)


@pytest.mark.parametrize(("parameters", "named"), [
    ({"lam": -1.0}, "lam must be >= 0"),
    ({"algo": "nope"}, "name must be one of"),
    ({"gamma": 1.5}, "gamma"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"n_locations": 0}, "n_locations"),
    ({"preset": "huge"}, "preset must be one of"),
    ({"overrides": "loop.utd=3"}, "overrides must be a list"),
    ({"threads": 0}, "threads"),
    ({"interactive": "yes"}, "interactive"),
    ({"device": "gpu"}, "device must be one of auto, cpu, cuda, cuda:N"),
    ({"bogus": 1}, "unknown parameters ['bogus']"),
])
def test_a_bad_parameter_raises_a_value_error_naming_it(parameters, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        config_from_parameters(**parameters)


def test_figures_name_traces_by_algorithm_and_carry_their_title():
    summary = pd.DataFrame({"algo": ["td3", "td3", "iqn"], "step": [1, 2, 1],
                            "value": [0.0, 1.0, 2.0], "lo": [-0.5, math.nan, 1.9],
                            "hi": [0.5, math.nan, 2.1], "n": [3, 1, 3]})
    seeds = pd.DataFrame({"algo": ["td3", "td3", "iqn"], "seed": [0, 0, 4], "step": [1, 2, 1],
                          "value": [0.0, 1.0, 2.0]})
    curves = plots.curves_with_ci(summary, title="Curves X", y_title="y", seeds=seeds)
    assert curves.layout.title.text == "Curves X"
    assert [t.name for t in curves.data] == ["td3 95% CI", "td3 seed 0", "td3",
                                             "iqn 95% CI", "iqn seed 4", "iqn"]
    plots.add_reference_lines(curves, {"random policy": 1.5})
    assert curves.data[-1].name == "random policy (1.5)" and list(curves.data[-1].y) == [1.5, 1.5]
    final = plots.final_return_vs_n(
        summary.rename(columns={"value": "iqm"}).assign(n_locations=[1, 3, 1]), title="Final X")
    assert [t.name for t in final.data] == ["td3", "iqn"]
    assert list(final.data[0].error_y.array) == [0.5, 0.0]  # hi - iqm; no interval: 0
    assert list(final.data[0].error_y.arrayminus) == [0.5, 0.0]
