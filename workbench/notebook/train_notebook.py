"""What the notebooks call, so they stay thin: one import (`from workbench.notebook import
train_notebook as api`) for the train notebook's steps, and the display helpers of every notebook.

* train: `config_from_parameters` (the notebook's parameters -> a validated `ExperimentConfig`,
  `workbench.config.notebook_parameters`, the same path the batch runner takes in the parent),
  `repo_path` (relative paths start at the repository root, wherever Lab started the kernel),
  `config_summary`, `use_threads`, `train_run`, `load_agent` (`workbench.train.trained_agent`),
  `probe_joint_samples`, `show`, `show_video`.
* every notebook: `use_device` checks its `device` parameter (`use_cpu_device` where the work
  runs on the CPU only; both `workbench.train.devices`).
* report (`workbench.report.report_notebook` holds its steps): here `use_report_display`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import torch

from dvg_core.agents.agent import Agent
from dvg_core.analysis.policy_evaluation import critic_joint_samples
from dvg_core.training.build import build_envs
from dvg_core.util.validation import check_int_at_least
from workbench.config.experiment_config import ExperimentConfig
from workbench.config.notebook_parameters import config_from_parameters
from workbench.host.paths import display_path, repo_path
from workbench.records.run_record import RunRecord, record_path
from workbench.train.devices import use_cpu_device, use_device, use_threads
from workbench.train.trained_agent import load_agent
from workbench.train.training_run import TrainingRun

__all__ = [
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


def config_summary(config: ExperimentConfig) -> str:
    """Two lines: what the run is (algorithm, env, budget, the main hyper-parameters) and where
    its record is; the whole config is the record's `params.json`."""
    a, env, loop = config.algorithm, config.env, config.loop
    kwargs = "".join(f", {k}={v}" for k, v in env.kwargs.items())
    return (f"{a.name} on {env.env_id} (noise {env.noise}{kwargs}), seed {config.seed}: "
            f"{loop.total_steps:,} env steps ({loop.warmup_steps:,} warm-up), UTD {loop.utd}, "
            f"γ {a.gamma:g}, λ {a.lam:g}, M {a.n_samples}, model {config.model.kind}, "
            f"device {config.device}\nrecord: {display_path(record_path(config))}")


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
