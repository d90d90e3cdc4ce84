"""Fixtures of the core's tests, built from `dvg_core` alone (these tests import nothing from
`workbench`: `tests/dvg_core/no_workbench.py` checks it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dvg_core.configs import LoopConfig
from dvg_core.training import Trainer
from dvg_core.training.build import build_trainer
from tests.dvg_core.tiny_run import tiny_configs


@pytest.fixture
def tiny_trainer(tmp_path: Path):
    """`make(name, seeds=(0,), loop=None, **algorithm) -> (Trainer, rows)`: a tiny toy trainer on
    the CPU, its metric rows collected per seed (`loop` replaces the tiny loop)."""

    def make(name: str = "td3", seeds=(0,), loop: LoopConfig | None = None,
             **algorithm) -> tuple[Trainer, list[list[dict]]]:
        algo, model, env, tiny_loop = tiny_configs(name, **algorithm)
        rows: list[list[dict]] = [[] for _ in seeds]
        trainer = build_trainer(algo, model, env, loop or tiny_loop, seeds=list(seeds),
                                device=torch.device("cpu"),
                                run_dirs=[tmp_path / f"seed{s}" for s in seeds],
                                logs=[r.append for r in rows])
        return trainer, rows

    return make
