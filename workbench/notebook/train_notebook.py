"""What `notebooks/train.ipynb` and `notebooks/report.ipynb` call, so the notebooks stay thin.

* train: `config_from_parameters` (the notebook's parameters -> a validated `ExperimentConfig`,
  the same path the batch runner takes in the parent), `repo_path` (relative paths start at the
  repository root, wherever Lab started the kernel), `config_summary`, `use_threads`,
  `train_run`, `load_agent`, `probe_joint_samples`, `show`.
* every notebook: `use_device` checks its `device` parameter (`use_cpu_device` where the work
  runs on the CPU only).
* report (`workbench.report.report_notebook`): `load_experiment`, `learning_curve_figures`,
  `final_return_figures`, `final_return_table` (IQM over seeds, 95% stratified bootstrap CIs),
  `claim_verdicts` and its `improvement_figures`, `improvement_table`, `claim_text`,
  `problem_runs` (`problem_runs_or_none`); here: `use_report_display`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import torch

from dvg_core.agents.agent import Agent
from dvg_core.training.build import build_agent, build_envs
from dvg_core.util.device import check_device_name, resolve_device
from dvg_core.envs import POINT_MASS_V1_ID
from dvg_core.analysis.policy_evaluation import critic_joint_samples
from dvg_core.util.validation import check_int_at_least
from workbench.config.experiment_config import ExperimentConfig
from workbench.config.presets import preset
from workbench.host.paths import display_path, repo_path
from workbench.records.run_record import RunRecord, record_path
from workbench.train.training_run import TrainingRun

__all__ = [
    "INVALID_CELL_FILE",
    "TRAIN_PARAMETERS",
    "config_from_parameters",
    "config_summary",
    "load_agent",
    "probe_joint_samples",
    "repo_path",
    "show",
    "show_video",
    "train_run",
    "use_cpu_device",
    "use_device",
    "use_report_display",
    "use_threads",
]

TRAIN_PARAMETERS: dict[str, Any] = {
    "algo": "dsdpg_msmmd", "env_id": POINT_MASS_V1_ID, "n_locations": None, "noise": "none",
    "noise_scale": None, "lam": None, "gamma": None, "samples": None, "seed": 0,
    "preset": "toy-quick", "steps": None, "model": None, "run_root": "runs",
    "experiment": "default", "overrides": [], "interactive": True, "threads": 1,
    "video": False, "device": "auto",
}
"""The parameters of `train.ipynb` and their defaults (a test checks the notebook agrees).
`None` keeps the preset's value (`noise_scale`: the env's default scale); `overrides` are
`key=value` strings applied last; `interactive` (JupyterLab: a progress bar and plotly's own
renderer; the batch runner passes False); `threads` is torch's thread count in the kernel (1: tiny
networks run ~12x faster than with one thread per core; None leaves torch's default); `video`
(MuJoCo only) records and shows one episode of the trained policy (rendering is opt-in);
`device` is `auto` (`cuda` when torch sees a GPU, else `cpu`), `cpu`, `cuda` or `cuda:N`."""

_KEYS = {
    "algo": "algorithm.name", "env_id": "env.env_id", "n_locations": "env.kwargs.n_locations",
    "noise": "env.noise", "noise_scale": "env.noise_scale", "lam": "algorithm.lam",
    "gamma": "algorithm.gamma", "samples": "algorithm.n_samples", "seed": "seed",
    "steps": "loop.total_steps", "model": "model.kind", "run_root": "run_root",
    "experiment": "experiment", "device": "device",
}
_ALWAYS = ("noise_scale",)  # None means something (the env's default scale), so it is passed

INVALID_CELL_FILE = "cell.json"
"""The raw parameters of a batch cell whose config failed validation (`workbench.grid.batch`)."""


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def config_from_parameters(**parameters: Any) -> ExperimentConfig:
    """The `ExperimentConfig` of `train.ipynb`'s parameters: the preset, then one `key=value`
    override per non-None parameter (`_KEYS`), then `overrides`; missing ones take their
    `TRAIN_PARAMETERS` default.

    Raises:
      ValueError: an unknown parameter, a bad `interactive`/`threads`/`overrides`, or any value
        the config rejects (its message names the field and the allowed range).
    """
    unknown = sorted(set(parameters) - set(TRAIN_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; valid: {list(TRAIN_PARAMETERS)}")
    p = {**TRAIN_PARAMETERS, **parameters}
    for flag in ("interactive", "video"):
        if not isinstance(p[flag], bool):
            raise ValueError(f"{flag} must be true or false, got {p[flag]!r}")
    if p["threads"] is not None:
        check_int_at_least("threads", p["threads"], 1)
    overrides = p["overrides"]
    if not isinstance(overrides, (list, tuple)) or not all(isinstance(o, str) for o in overrides):
        raise ValueError(f"overrides must be a list of 'key=value' strings, got {overrides!r}")
    named = [f"{key}={_text(p[name])}" for name, key in _KEYS.items()
             if p[name] is not None or name in _ALWAYS]
    return preset(p["preset"], [*named, *overrides])


def config_summary(config: ExperimentConfig) -> str:
    """Two lines: what the run is (algorithm, env, budget, the main hyper-parameters) and where
    its record is; the whole config is the record's `params.json`."""
    a, env, loop = config.algorithm, config.env, config.loop
    kwargs = "".join(f", {k}={v}" for k, v in env.kwargs.items())
    return (f"{a.name} on {env.env_id} (noise {env.noise}{kwargs}), seed {config.seed}: "
            f"{loop.total_steps:,} env steps ({loop.warmup_steps:,} warm-up), UTD {loop.utd}, "
            f"γ {a.gamma:g}, λ {a.lam:g}, M {a.n_samples}, model {config.model.kind}, "
            f"device {config.device}\nrecord: {display_path(record_path(config))}")


def use_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count (None: leave torch's default)."""
    if threads is not None:
        check_int_at_least("threads", threads, 1)
        torch.set_num_threads(threads)


def use_device(device: str) -> torch.device:
    """The device a notebook's `device` parameter names on this machine (`auto`: `cuda` when
    torch sees a GPU, else `cpu`): `ValueError` naming `device` for a bad name or a GPU this
    machine lacks, before any work."""
    return resolve_device(device)


def use_cpu_device(device: str, *, why: str) -> torch.device:
    """`use_device` for a notebook whose work runs on the CPU only: `auto` and `cpu` give the
    CPU; a GPU request is a `ValueError` saying `why` (never silently run on the CPU)."""
    check_device_name(device)
    if device not in ("auto", "cpu"):
        raise ValueError(f"device must be 'auto' or 'cpu' in this notebook ({why}), "
                         f"got {device!r}")
    return torch.device("cpu")


def train_run(config: ExperimentConfig, *, interactive: bool = False) -> RunRecord:
    """Train `config` into its record, resuming from its checkpoint (a `done` record is returned
    untouched); prints the final status. `interactive` shows a progress bar."""
    (record,) = TrainingRun([config], resume=True, progress=interactive).execute()
    state = record.read_status() or {}
    print(f"status: {state.get('status')} ({state.get('message', '')})")
    return record


def show_video(agent: Agent, config: ExperimentConfig, record: RunRecord) -> Path:
    """Record one deterministic episode of `agent` into `<record>/videos/` and display it
    (embedded, so the output notebook carries it); returns the mp4's path."""
    from IPython.display import Video, display

    from workbench.notebook.policy_video import record_policy_video

    path = record_policy_video(agent, config, record.path / "videos")
    display(Video(str(path), embed=True, html_attributes="controls loop"))
    return path


def show(figure: go.Figure, *, interactive: bool = False) -> None:
    """Display a figure: plotly's default renderer when interactive, else only the compact plotly
    JSON mimetype (a batch's output notebooks do not each carry plotly.js)."""
    figure.show(renderer=None if interactive else "plotly_mimetype")


def use_report_display() -> None:
    """Figures as plotly JSON (JupyterLab) and as HTML with plotly.js embedded once (nbconvert's
    HTML, viewable offline); tables show status messages in full."""
    pio.renderers.default = "plotly_mimetype+notebook"
    pd.set_option("display.max_colwidth", None)


# ----------------------------------------------------------------- the trained agent
def load_agent(record: RunRecord) -> Agent | None:
    """The agent of `record` rebuilt from its config with the checkpoint's weights; None if the
    record has no checkpoint (a run that diverged before its first one)."""
    if not record.checkpoint_path.exists():
        return None
    config = record.config()
    device = resolve_device(config.device)
    env, _ = build_envs(config.env, config.seed)
    agent = build_agent(config.algorithm, config.model, config.env, env, device)
    state = torch.load(record.checkpoint_path, map_location=device, weights_only=True)
    agent.load_checkpoint_state(state["agent"])
    return agent


def probe_joint_samples(
    agent: Agent, config: ExperimentConfig, *, n_probes: int = 3, n_samples: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """The critic's `(Z, ∇ₐZ)` at `n_probes` states (the env's resets with seeds 0, 1, ...) and
    the agent's deterministic actions there.

    An IQN critic gives quantiles at `τ ~ U(0, 1)` (inverse-CDF return samples) and their
    action-gradients; a twin-Q critic one point per member.

    Returns:
      states `[P, d_s]` and samples `[P, K, 1+d_a]` (K = members x samples), as numpy.
    """
    check_int_at_least("n_probes", n_probes, 1)
    device = next(agent.critic.parameters()).device
    env, _ = build_envs(config.env, config.seed)
    states = torch.as_tensor(np.stack([env.reset(seed=k)[0] for k in range(n_probes)]),
                             dtype=torch.float32, device=device)  # [P, d_s]
    actions = agent.act(states)
    generator = torch.Generator(device=device).manual_seed(0)
    samples = critic_joint_samples(agent, states, actions, n_samples=n_samples,
                                   generator=generator)
    return states.cpu().numpy(), samples.cpu().numpy()
