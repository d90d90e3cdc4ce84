"""The named presets: every budget of the workbench's experiments is set here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from dvg_core.agents import AlgorithmConfig, SlicingConfig
from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig
from dvg_core.envs import POINT_MASS_V1_ID
from workbench.config.experiment_config import ExperimentConfig
from workbench.config.memory_budget import check_budget, run_device
from workbench.config.overrides import apply_overrides, set_keys
from workbench.config.names import PRESET_NAMES, did_you_mean

__all__ = ["PRESETS", "preset"]


def _toy_quick() -> ExperimentConfig:
    """Small and fast, the default of every command: 2000 env steps on `dvg/PointMass-v1` with
    64-64 networks and a world model learned from the agent's own data (the paper's setting; the
    main job's grid; its measured time is in the README).

    Calibrated on v1 at N = 1 (issue 16, `docs/lab/results.md`), where two things kept learners
    from the go-to-a-location return (47.4) within the budget:
    * the v0-era actor (lr 1e-4, exploration 0.5) was too slow: td3 stayed at the random
      policy's return (6.1); lr 1e-3 and exploration 0.2 learn within 1000-1500 steps;
    * a saturated tanh actor that learned to push one way ran through the bump into the wall and
      could not learn to stop, although its critic said so (its gradient through tanh vanishes):
      `actor_saturation_penalty` 1e-2 keeps it out of saturation.

    The world model (issue 28, docs/lab/world-models.md): the paper's cVAE, refitted 50 batches every
    25 env steps (1000 when the warm-up ends). With the old schedule (250 batches every 250 env
    steps) every model-based learner ended at or below the random policy at N >= 3: between fits
    the model did not know the dynamics where the policy had just gone. At N >= 3 the cVAE still
    leaves the learners below their oracle-model returns; `--set model=flow` (the two-pass flow)
    keeps them near those returns at N = 1, 3 and 5, at 4-5x the cost of a run, which is why it
    is not the default (the coupling layout, about 2x, loses what the flow gains).
    `--set model=oracle` gives the toy's own simulator (the report reads the learned grid
    against committed oracle-model returns).
    """
    return ExperimentConfig(
        algorithm=AlgorithmConfig(hidden=(64, 64), gamma=0.9, actor_lr=1e-3,
                                  exploration_noise=0.2, actor_saturation_penalty=1e-2,
                                  slicing=SlicingConfig(steps=2, restarts=0)),
        env=EnvConfig(env_id=POINT_MASS_V1_ID, kwargs={"n_locations": 3}),
        model=ModelConfig(kind="cvae", hidden=(64, 64), fit_every=25, fit_steps=50,
                          warmup_fit_steps=1000),
        loop=LoopConfig(total_steps=2_000, warmup_steps=500, utd=2, batch_size=64,
                        eval_every=250, eval_episodes=5, log_every=250, checkpoint_every=500),
    )


def _toy_paper() -> ExperimentConfig:
    """Paper-like toy run: 290k updates (29k learning steps x UTD 10), a GPU job.

    Source: paper-notes §4.4 (M = 10 samples, UTD 10). GUESS: γ, widths, batch and budget (not
    recovered from the paper). Expected wall time per run on a 2-core CPU (2 threads), from the
    measured update cost (`python -m workbench bench --problems toy`, 2026-11-25): td3 0.3 h,
    mage 0.6 h, iqn 2.5 h, mmd 2.0 h, dsdpg_mmd 5.5 h, dsdpg_msmmd 7.2 h (updates only).
    """
    return ExperimentConfig(
        algorithm=AlgorithmConfig(hidden=(256, 256), gamma=0.95, n_samples=10,
                                  n_target_samples=10),
        env=EnvConfig(env_id=POINT_MASS_V1_ID, kwargs={"n_locations": 3}),
        model=ModelConfig(kind="cvae", hidden=(256, 256)),
        loop=LoopConfig(total_steps=30_000, warmup_steps=1_000, utd=10, batch_size=256,
                        eval_every=1_000, eval_episodes=10),
    )


def _mujoco_100k() -> ExperimentConfig:
    """The MAGE-style budget: 100k env steps on a MuJoCo task (default HalfCheetah-v5).

    TD3's published hyper-parameters (Fujimoto et al. 2018, the authors' repo: 256-256 networks,
    Adam 3e-4, batch 256, γ 0.99, τ 0.005, exploration 0.1, policy delay 2), 10k random warm-up
    steps (the paper's, for HalfCheetah and Ant), one update per env step, evaluation every 5k
    steps over 10 episodes. Observations are standardised by running statistics (TD3's own
    validation run turns this off: `algorithm.normalize_obs=false`). GUESS: UTD 1 (the paper's 10
    is `mujoco-paper`'s; 1M Sobolev updates are a GPU job).
    """
    return ExperimentConfig(
        algorithm=AlgorithmConfig(hidden=(256, 256), gamma=0.99, normalize_obs=True),
        env=EnvConfig(env_id="HalfCheetah-v5"),
        model=ModelConfig(kind="cvae", hidden=(256, 256), fit_every=250, fit_steps=250,
                          warmup_fit_steps=2000),
        loop=LoopConfig(total_steps=100_000, warmup_steps=10_000, utd=1, batch_size=256,
                        eval_every=5_000, eval_episodes=10, log_every=1_000,
                        checkpoint_every=10_000),
    )


def _mujoco_paper() -> ExperimentConfig:
    """The paper's setting (paper-notes §4.4: M = 10, UTD 10), intended for a GPU.

    GUESS: 300k env steps (the paper's x-axes are not recovered); everything else as
    `mujoco-100k`.
    """
    base = _mujoco_100k()
    return replace(base, loop=replace(base.loop, total_steps=300_000, utd=10))


def _mujoco_smoke() -> ExperimentConfig:
    """A few thousand steps of one task with small networks: checks the MuJoCo path end to end
    (used by the test suite); not a result."""
    base = _mujoco_100k()
    return replace(
        base,
        algorithm=replace(base.algorithm, hidden=(64, 64), n_samples=4, n_target_samples=4,
                          slicing=SlicingConfig(steps=2, restarts=0)),
        model=replace(base.model, hidden=(64, 64), fit_every=500, fit_steps=50,
                      warmup_fit_steps=100),
        loop=LoopConfig(total_steps=2_000, warmup_steps=1_000, utd=1, batch_size=64,
                        eval_every=1_000, eval_episodes=1, log_every=500, checkpoint_every=1_000),
    )


PRESETS: dict[str, Callable[[], ExperimentConfig]] = dict(zip(
    PRESET_NAMES, (_toy_quick, _toy_paper, _mujoco_smoke, _mujoco_100k, _mujoco_paper),
    strict=True))
"""Named starting points (their names: `workbench.config.names.PRESET_NAMES`, which the command
line reads without torch); every budget of the workbench's presets is set here and nowhere
else."""


def preset(name: str, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """The preset `name` with `apply_overrides(…, overrides)` applied.

    Raises:
      ValueError: an unknown preset (listing them), a bad override, or a run that cannot fit
        this machine's memory (`workbench.config.memory_budget`, naming the keys the overrides set).
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {list(PRESETS)}, got {name!r}"
                         + did_you_mean(name, PRESETS))
    overrides = list(overrides)
    config = apply_overrides(PRESETS[name](), overrides)
    check_budget(config, set_keys=set_keys(overrides), device=run_device(config.device))
    return config
