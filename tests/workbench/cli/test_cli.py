"""The command line: a fast `--help` (no torch), "did you mean", `config --list`, `report`."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.config import names
from workbench.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True)


def test_help_imports_neither_torch_nor_the_dvg_core_layer():
    code = ("import sys\nfrom workbench.cli.main import main\n"
            "for argv in (['--help'], ['train', '--help'], ['config', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'numpy', 'pandas', 'gymnasium') or (m.split('.')[0] == 'dvg_core' "
            "and m not in ('dvg_core', 'dvg_core.names'))))")
    assert _python(code).stdout.strip().splitlines()[-1] == "[]"


def test_help_answers_well_under_a_second_and_the_readme_states_the_figure():
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "workbench", "--help"], cwd=ROOT, check=True,
                   capture_output=True)
    assert time.perf_counter() - start < 3.0  # measured 0.1 s; generous for a loaded machine
    assert "`--help` answers in about 0.1 s" in README


def test_the_parser_names_are_the_registries_not_copies():
    """The command line's choices and the registries the training side uses are one object
    each, kept in the torch-free `dvg_core.names` and `workbench.config.names`."""
    from dvg_core import names as core_names
    from dvg_core.agents import ALGORITHMS, PAPER_ALGORITHMS
    from dvg_core.configs import ENV_IDS
    from dvg_core.envs.factory import NOISE_SETTINGS, WORKBENCH_ENV_IDS
    from workbench.cli import main as cli_main
    from workbench.cli import parser
    from workbench.config.presets import PRESETS
    from workbench.experiments.registry import EXPERIMENTS

    assert ALGORITHMS is core_names.ALGORITHMS is parser.ALGORITHMS is cli_main.ALGORITHMS
    assert PAPER_ALGORITHMS is core_names.PAPER_ALGORITHMS is parser.PAPER_ALGORITHMS
    assert ENV_IDS is core_names.ENV_IDS is WORKBENCH_ENV_IDS is parser.ENV_IDS
    assert NOISE_SETTINGS is core_names.NOISE_SETTINGS is cli_main.NOISE_SETTINGS
    assert tuple(PRESETS) == names.PRESET_NAMES and parser.PRESET_NAMES is names.PRESET_NAMES
    assert parser.EXPERIMENTS is EXPERIMENTS and tuple(EXPERIMENTS) == ("toy", "mujoco")
    assert set(names.COMMANDS) == set(main.__globals__["_HANDLERS"])


@pytest.mark.parametrize(("argv", "message"), [
    (["trian"], "unknown command 'trian'; did you mean 'train'?"),
    (["train", "--preset", "toy-quik"], "did you mean 'toy-quick'?"),
    (["train", "--algo", "dsdpg_msmd"], "did you mean 'dsdpg_msmmd'?"),
    (["train", "--env", "hopper-v5"], "did you mean 'Hopper-v5'?"),
    (["train", "--set", "algo=tdd3"], "did you mean 'td3'?"),
    (["train", "--set", "algorithm.lamda=1"], "did you mean 'lam'?"),
    (["train", "--set", "loop.total_step=5"], "did you mean 'total_steps'?"),
    (["train", "--set", "sede=1"], "did you mean 'seed'?"),
    (["train", "--set", "algorithmm.lam=1"], "did you mean 'algorithm'?"),
    (["config", "--set", "noise=dynamic"], "did you mean 'dynamics'?"),
    (["reproduce", "toyy"], "did you mean 'toy'?"),
])
def test_typos_exit_2_with_a_suggestion_and_write_nothing(tmp_path, capsys, monkeypatch, argv,
                                                          message):
    monkeypatch.chdir(tmp_path)
    extra = ["--run-root", str(tmp_path)] if argv[0] in ("train", "reproduce") else []
    assert main([*argv, *extra]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_no_suggestion_when_nothing_is_close():
    from dvg_core.names import ALGORITHMS

    assert names.did_you_mean("zzzzzz", ALGORITHMS) == ""


def test_config_list_covers_every_field_with_type_value_and_doc(capsys):
    from dvg_core.envs import PointMassSpec
    from workbench.config.experiment_config import SECTIONS, ExperimentConfig
    from workbench.config.key_listing import config_keys, field_docs

    assert main(["config", "--list", "--preset", "toy-quick"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines()[1:] if line and " " in line}
    expected = {"seed", "device", "experiment", "run_root", "algorithm.variant"}
    from dvg_core.agents import (
        ActorConfig, AlgorithmConfig, CriticConfig, DistanceConfig, SlicingConfig, TargetConfig,
    )

    groups = {"slicing": SlicingConfig, "critic": CriticConfig, "actor": ActorConfig,
              "targets": TargetConfig, "distance": DistanceConfig}  # listed by their fields
    expected |= {f"{name}.{f.name}" for name, cls in SECTIONS.items()
                 for f in dataclasses.fields(cls) if cls is not AlgorithmConfig or f.name not in groups}
    expected |= {f"algorithm.{group}.{f.name}" for group, cls in groups.items()
                 for f in dataclasses.fields(cls)}
    expected |= {f"env.kwargs.{f.name}" for f in dataclasses.fields(PointMassSpec)
                 if f.name != "dynamics_noise"}
    assert expected <= listed
    assert "aliases: algo=algorithm.name" in out
    for cls in (*SECTIONS.values(), ExperimentConfig, PointMassSpec, *groups.values()):  # documented
        docs = field_docs(cls)
        assert all(docs.get(f.name) for f in dataclasses.fields(cls)), cls
    keys = {k.key: k for k in config_keys(__import__("workbench").preset("mujoco-100k"))}
    assert keys["loop.total_steps"].value == "100000" and keys["loop.total_steps"].type == "int"
    assert not any(k.startswith("env.kwargs.") for k in keys)  # the toy's only


def test_config_prints_the_resolved_config_as_json(capsys):
    assert main(["config", "--preset", "toy-quick", "--set", "lam=0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["algorithm"]["lam"] == 0.5


@pytest.mark.slow
def test_report_renders_a_record_and_an_experiment_of_a_run_root(tmp_path, capsys):
    sets = ["loop.total_steps=60", "loop.warmup_steps=20", "loop.utd=1", "loop.batch_size=8",
            "loop.eval_every=20", "loop.eval_episodes=1", "loop.log_every=20",
            "loop.checkpoint_every=20", "algorithm.hidden=8,8", "model.hidden=8,8",
            "model.fit_steps=1", "model.warmup_fit_steps=1", "model.batch_size=8",
            "env.kwargs.horizon=10"]
    argv = ["train", "--algo", "td3", "--device", "cpu", "--run-root", str(tmp_path / "runs"),
            "--experiment", "exp", "--no-progress", *[a for s in sets for a in ("--set", s)]]
    assert main(argv) == 0
    out = capsys.readouterr().out
    (record,) = (tmp_path / "runs" / "exp").iterdir()
    assert f"report: python -m workbench report {record}" in out
    assert main(["report", str(tmp_path / "runs")]) == 0  # the run root: each experiment
    assert capsys.readouterr().out.strip() == str((tmp_path / "runs" / "exp" / "report.html"))
    assert main(["report", str(record)]) == 0  # one record
    html = (record / "report.html").read_text()
    assert r"Learning curves: dvg\u002fPointMass-v1\u002fnone\u002fN=3" in html  # plotly's JSON
    assert not list(tmp_path.rglob("report.ipynb"))  # the HTML only
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(("device", "message"), [
    ("gpu", "error: device must be one of auto, cpu, cuda, cuda:N (N a GPU index, from 0), "
            "got 'gpu'"),
    ("cuda:x", "error: device must be one of auto, cpu, cuda, cuda:N"),
    ("cuda", "error: device 'cuda' needs a CUDA GPU, but torch sees none"),
    ("cuda:1", "error: device 'cuda:1' needs a CUDA GPU, but torch sees none"),
])
def test_train_refuses_a_bad_or_missing_device_before_training(tmp_path, capsys, monkeypatch,
                                                               device, message):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    argv = ["train", "--device", device, "--run-root", str(tmp_path), "--no-progress"]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:3"])
def test_the_train_device_flag_reaches_the_config(device):
    from workbench.cli.main import _overrides, build_parser
    from workbench.config.presets import preset

    args = build_parser().parse_args(["train", "--device", device])
    assert preset(args.preset, _overrides(args)).device == device
    default = build_parser().parse_args(["train"])
    assert preset(default.preset, _overrides(default)).device == "auto"


def test_the_device_flag_lists_its_values_in_the_help(capsys):
    for command in ("train", "reproduce"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--device {auto,cpu,cuda,cuda:N}" in capsys.readouterr().out


@pytest.mark.parametrize("flag, expected", [([], False), (["--compile"], True),
                                            (["--no-compile"], False)])
def test_reproduce_compile_reaches_the_grid_options(monkeypatch, tmp_path, flag, expected):
    import workbench.grid.batch

    seen = {}

    def fake_reproduce(name, options, **kwargs):
        seen["options"] = options
        raise ValueError("stop here")

    monkeypatch.setattr(workbench.grid.batch, "reproduce", fake_reproduce)
    assert main(["reproduce", "toy", "--run-root", str(tmp_path), *flag]) == 2
    assert seen["options"].compile is expected
