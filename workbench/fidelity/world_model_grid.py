"""The world-model fidelity benchmark (`python -m workbench model-fidelity`): every world-model
kind, fitted by its own `fit` on the toy, measured against the toy's differentiable step.

For each toy setting (N reward locations, dynamics noise) and seed, one reference Dyna run
(`toy-quick`, `dsdpg_msmmd` with the simulator as its model: a learner that works) gives a
replay, the states its final policy visits, and a target policy and critic. Each model kind is
then fitted `fit_steps` batches on

* `uniform`: simulator transitions at uniform pairs, probed uniformly and near the reward
  locations, and
* `replay`: the reference run's replay, probed at its policy's states and actions,

and measured by `dvg_core.analysis.model_fidelity` (the law of `(s', r)`, the joint law with the
pathwise derivatives, the mean derivatives, and the Sobolev targets through the model against
those through the simulator, with the reference run's target policy and critic). The simulator
itself (`oracle`) is the check: it scores zero up to Monte-Carlo error.

Rows go to `--json` (one list, rewritten after each setting, so a re-run resumes the settings
already there), a markdown table to stdout, TensorBoard scalars beside the JSON
(`workbench.fidelity.world_model_tables`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config.names import did_you_mean

if TYPE_CHECKING:  # torch-free at import
    from dvg_core.training import Trainer

__all__ = [
    "DATA_SETS", "MODEL_VARIANTS", "TABLE_METRICS", "ModelFidelityOptions", "model_config",
    "run_model_fidelity",
]

MODEL_VARIANTS: dict[str, dict[str, Any]] = {
    "cvae": {"kind": "cvae"},
    "cvae-mix": {"kind": "cvae", "prior_components": 4},
    "ensemble": {"kind": "ensemble"},
    "flow": {"kind": "flow", "flow_layout": "two_pass"},
    "flow-coupling": {"kind": "flow", "flow_layout": "coupling"},
    "oracle": {"kind": "oracle"},
}
"""The benchmark's model names -> `ModelConfig` fields (on top of `toy-quick`'s model)."""
DATA_SETS = ("uniform", "replay")
"""What the models are fitted on (see the module docstring)."""
TABLE_METRICS = ("sample_mmd2", "joint_energy", "reward_gradient_error", "state_gradient_error",
                 "between_modes", "target_mean_error", "target_gradient_error",
                 "target_energy")
"""The metric columns of the JSON rows and the table, in order."""


@dataclass(frozen=True)
class ModelFidelityOptions:
    """What `run_model_fidelity` measures; validated on construction."""

    models: tuple[str, ...] = tuple(MODEL_VARIANTS)
    """Model names, of `MODEL_VARIANTS`."""
    n_locations: tuple[int, ...] = (1, 3, 5)
    """The toy's reward-location counts N."""
    noises: tuple[float, ...] = (0.0, 0.05)
    """The toy's dynamics-noise scales."""
    data: tuple[str, ...] = DATA_SETS
    """Data sets, of `DATA_SETS`."""
    fit_steps: int = 2000
    """Fit batches of 256 per model."""
    seeds: tuple[int, ...] = (0,)
    """Seeds (data, probes, models and the reference run)."""
    hidden: tuple[int, ...] = (64, 64)
    """The models' hidden sizes (`toy-quick`'s)."""
    n_pairs: int = 4096
    """Uniform data: transitions."""
    n_probes: int = 64
    """Probe pairs (uniform data; the replay's come from its policy's episodes, at most this)."""
    n_draws: int = 256
    """Draws per probe of each model and of the simulator."""
    n_target_samples: int = 64
    """Sobolev targets: model draws per probe and target critic (the oracle row shows the
    Monte-Carlo floor this leaves)."""
    reference_steps: int = 2000
    """Env steps of the reference Dyna run (`toy-quick`'s budget)."""

    def __post_init__(self) -> None:
        for name, allowed in (("models", MODEL_VARIANTS), ("data", DATA_SETS)):
            for value in getattr(self, name):
                if value not in allowed:
                    raise ValueError(f"{name}: {value!r} is not one of {list(allowed)}"
                                     + did_you_mean(value, allowed))
        for name in ("models", "n_locations", "noises", "data", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")
        if any(isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 8
               for n in self.n_locations):
            raise ValueError(f"n_locations must be integers in [1, 8] (the calibrated toy's "
                             f"range), got {list(self.n_locations)}")
        if any(not 0 <= x <= 0.5 for x in self.noises):
            raise ValueError(f"noises must lie in [0, 0.5], got {list(self.noises)}")
        for name, low in (("fit_steps", 0), ("n_pairs", 256), ("n_probes", 2), ("n_draws", 2),
                          ("n_target_samples", 1), ("reference_steps", 600)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if any(s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be >= 0, got {list(self.seeds)}")


def model_config(name: str, base: Any, hidden: Sequence[int]) -> Any:
    """The `ModelConfig` of benchmark model `name` (`MODEL_VARIANTS`) on top of `base`."""
    return replace(base, hidden=tuple(hidden), **MODEL_VARIANTS[name])


def _row_key(row: dict[str, Any]) -> tuple:
    return (row["n_locations"], float(row["noise"]), row["seed"], row["data"], row["model"])


def run_model_fidelity(options: ModelFidelityOptions, json_path: str | Path, *,
                       progress: bool = True) -> list[dict[str, Any]]:
    """Measure every model of `options` on every data set at every setting; rows already in
    `json_path` (measured with the same per-row options) are kept, the missing ones computed
    and appended (a setting at a time), so a re-run resumes and a new model adds its rows."""
    json_path = Path(json_path)
    rows = _load_rows(json_path, options)
    done = {_row_key(r) for r in rows}
    settings = [(n, float(noise), seed) for n in options.n_locations for noise in options.noises
                for seed in options.seeds]
    todo = [(setting, [(d, m) for d in options.data for m in options.models
                       if (*setting, d, m) not in done]) for setting in settings]
    todo = [(setting, missing) for setting, missing in todo if missing]
    for i, ((n, noise, seed), missing) in enumerate(todo):
        if progress:
            print(f"[{i + 1}/{len(todo)}] N={n} noise={noise:g} seed={seed}: "
                  f"{len(missing)} rows", flush=True)
        rows += _measure_setting(options, n, noise, seed, missing)
        _save_rows(json_path, options, rows)
    wanted = {(*s, d, m) for s in settings for d in options.data for m in options.models}
    return [r for r in rows if _row_key(r) in wanted]


def _load_rows(path: Path, options: ModelFidelityOptions) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        saved = json.loads(path.read_text())
        rows, saved_options = saved["rows"], saved["options"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a model-fidelity record ({err}); move it away or pick "
                         "another --json") from None
    if saved_options != _options_record(options, per_setting_only=True):
        raise ValueError(f"{path} holds rows of other options ({saved_options}); pick another "
                         "--json to measure these")
    return rows


def _options_record(options: ModelFidelityOptions, *, per_setting_only: bool) -> dict[str, Any]:
    """The options a row depends on (not which settings, which the rows name)."""
    record = asdict(options)
    if per_setting_only:
        for key in ("models", "data", "n_locations", "noises", "seeds"):
            record.pop(key)
    return json.loads(json.dumps(record))


def _save_rows(path: Path, options: ModelFidelityOptions, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"options": _options_record(options, per_setting_only=True),
                       "rows": rows}, indent=1)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text)
    os.replace(temp, path)


def _reference_run(n: int, noise: float, seed: int, steps: int) -> Any:
    """The reference Dyna run's trainer, trained (`toy-quick`, `dsdpg_msmmd`, oracle model)."""
    import torch

    from dvg_core.training.build import build_trainer
    from workbench.config.presets import preset

    overrides = ["algo=dsdpg_msmmd", "model=oracle", f"n_locations={n}", f"seed={seed}",
                 f"steps={steps}", "loop.fidelity_probes=0"]
    if noise > 0:
        overrides += ["env.noise=dynamics", f"env.noise_scale={noise}"]
    config = preset("toy-quick", overrides)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = build_trainer(config.algorithm, config.model, config.env, config.loop,
                                seeds=[seed], device=torch.device("cpu"), run_dirs=[run_dir],
                                logs=[lambda row: None])
        trainer.run()
    return trainer, config


def _policy_states(trainer: Trainer, n_probes: int, seed: int) -> Any:
    """States of the reference run's final policy: its deterministic episodes from the
    evaluation starts, evenly thinned to at most `n_probes`."""
    import numpy as np
    import torch

    env, agent, states = trainer.eval_envs[0], trainer.agents[0], []
    for episode in range(2):
        obs, _ = env.reset(seed=20_000 * (seed + 1) + episode)
        done = False
        while not done:
            states.append(obs)
            action = agent.act(torch.as_tensor(obs)[None]).numpy()[0]
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    states = torch.as_tensor(np.stack(states), dtype=torch.float32)
    index = torch.linspace(0, states.shape[0] - 1, min(n_probes, states.shape[0]))
    return states[index.round().long()]


def _measure_setting(options: ModelFidelityOptions, n: int, noise: float, seed: int,
                     missing: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    import torch

    from dvg_core.analysis.model_fidelity import model_metrics, target_metrics
    from dvg_core.analysis.model_fidelity_runs import fit_model, replay_data, uniform_data
    from dvg_core.models.world_models import OracleWorldModel
    from dvg_core.training.build import build_world_model

    torch.set_num_threads(1)
    trainer, config = _reference_run(n, noise, seed, options.reference_steps)
    env = trainer.envs[0]
    dynamics = OracleWorldModel(env.unwrapped.dynamics).dynamics
    truth = OracleWorldModel(dynamics)
    agent = trainer.agents[0]
    data_sets = {}
    if any(d == "uniform" for d, _ in missing):
        data_sets["uniform"] = uniform_data(
            dynamics, n_pairs=options.n_pairs, n_probes=options.n_probes,
            generator=torch.Generator().manual_seed(7919 * (seed + 1)))
    if any(d == "replay" for d, _ in missing):
        data_sets["replay"] = replay_data(trainer.replay, 0, agent.actor,
                                          _policy_states(trainer, options.n_probes, seed))
    rows = []
    for data_name, name in missing:
        torch.manual_seed(seed)
        model = build_world_model(model_config(name, config.model, options.hidden), config.env,
                                  env)
        data = data_sets[data_name]
        fit = fit_model(model, data, steps=options.fit_steps,
                        generator=torch.Generator().manual_seed(seed + 1))
        generator = torch.Generator().manual_seed(104_729 * (seed + 1))
        metrics = model_metrics(model, truth, data.probe_state, data.probe_action,
                                n_draws=options.n_draws, generator=generator)
        metrics |= target_metrics(model, truth, agent.actor_target, agent.critic_target,
                                  data.probe_state, data.probe_action,
                                  gamma=config.algorithm.gamma,
                                  n_samples=options.n_target_samples, generator=generator)
        rows.append({"model": name, "data": data_name, "n_locations": n, "noise": noise,
                     "seed": seed, "fit_steps": options.fit_steps, "fit_loss": fit.get("loss"),
                     **metrics, **_showcase(model, truth, data, seed)})
    return rows


SHOWCASE_DRAWS = 128
"""Draws of the model and of the simulator kept in a row at its showcase probe."""


def _showcase(model: Any, truth: Any, data: Any, seed: int) -> dict[str, Any]:
    """The draws `(r, ∂r/∂a₁, ∂r/∂a₂)` of the model and of the simulator at the probe whose true
    reward is the most spread out (`probe`, `probe_draws`, `probe_truth`: lists for the JSON)."""
    import torch

    from dvg_core.analysis.model_fidelity import transition_draws

    def draws(world_model: Any, state: Any, action: Any) -> Any:
        values, jacobian = transition_draws(
            world_model, state, action, n_draws=SHOWCASE_DRAWS,
            generator=torch.Generator().manual_seed(31 * (seed + 1)))
        return torch.cat([values[..., -1:], jacobian[..., -1, :]], -1)  # [B, K, 1+d_a]

    spread = draws(truth, data.probe_state, data.probe_action)[..., 0].std(1)
    probe = int(spread.argmax())
    state, action = data.probe_state[probe:probe + 1], data.probe_action[probe:probe + 1]
    return {"probe": probe, "probe_state": state[0].tolist(), "probe_action": action[0].tolist(),
            "probe_draws": draws(model, state, action)[0].tolist(),
            "probe_truth": draws(truth, state, action)[0].tolist()}
