"""Fixtures shared by the workbench's tests."""

from __future__ import annotations

import pytest

from workbench.config.presets import preset


@pytest.fixture
def config(tmp_path):
    """A `toy-quick` config whose record goes under `tmp_path/runs/exp/`."""
    return preset("toy-quick", [f"run_root={tmp_path / 'runs'}", "experiment=exp"])
