"""Opt-in rendering: a trained (here: fresh) agent's episode becomes an mp4 of the right frames."""

from __future__ import annotations

import pytest

from workbench.config.presets import preset
from workbench.train.trained_agent import load_agent
from workbench.train.training_run import train
from workbench.notebook.policy_video import record_policy_video

imageio = pytest.importorskip("imageio.v3")


@pytest.mark.slow
def test_a_trained_policy_is_recorded_as_an_mp4(tmp_path):
    config = preset("mujoco-smoke", ["algo=td3", "env=Hopper-v5", f"run_root={tmp_path}",
                                     "steps=1100", "device=cpu"])
    agent = load_agent(train(config, progress=False))
    path = record_policy_video(agent, config, tmp_path / "videos", max_steps=40, width=96,
                               height=64)
    frames = imageio.imread(path)
    assert path.exists() and path.suffix == ".mp4"
    assert frames.shape[1:] == (64, 96, 3)
    assert 2 <= frames.shape[0] <= 41  # reset frame + one per step (the hopper may fall early)
    assert frames.std() > 0  # not a blank image


def test_the_toy_has_no_video():
    config = preset("toy-quick")
    with pytest.raises(ValueError, match="no renderer"):
        record_policy_video(None, config, "unused")


@pytest.mark.slow
def test_train_notebook_shows_a_video_when_asked(tmp_path):
    import papermill

    from workbench.grid.batch import TRAIN_NOTEBOOK

    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(TRAIN_NOTEBOOK), str(out), cwd=str(tmp_path), progress_bar=False,
        parameters={"algo": "td3", "env_id": "Hopper-v5", "preset": "mujoco-smoke", "steps": 1100,
                    "run_root": str(tmp_path / "runs"), "video": True},
    )
    html = out.read_text()
    assert "<video" in html and "data:video/mp4;base64," in html
    assert list((tmp_path / "runs").glob("default/*/videos/*.mp4"))
