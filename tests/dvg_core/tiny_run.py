"""The tiny toy run the core's tests train: its configs, from `dvg_core` alone."""

from __future__ import annotations

from dvg_core.agents import AlgorithmConfig, SlicingConfig
from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig


def tiny_configs(name: str = "td3", **algorithm) -> tuple:
    """`(algorithm, model, env, loop)` of a tiny toy run: 300 env steps (100 warm-up), 16-16
    networks, evaluations and checkpoints every 100 steps, 20-step episodes."""
    return (
        AlgorithmConfig(name=name, hidden=(16, 16), gamma=0.9, actor_lr=1e-3,
                        exploration_noise=0.2, actor_saturation_penalty=1e-2, n_samples=4,
                        n_target_samples=4, slicing=SlicingConfig(steps=2, restarts=0),
                        **algorithm),
        ModelConfig(kind="cvae", hidden=(16, 16), fit_every=50, fit_steps=5,
                    warmup_fit_steps=10, batch_size=32),
        EnvConfig(kwargs={"n_locations": 3, "horizon": 20}),
        LoopConfig(total_steps=300, warmup_steps=100, utd=1, batch_size=32, eval_every=100,
                   eval_episodes=1, log_every=50, checkpoint_every=100),
    )
