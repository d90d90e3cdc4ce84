"""Where the jobs of a parallel batch run: round-robin over the GPUs, nothing changed without
several (a pure function, checked for 0, 1, 2 and 4 GPUs and 1 to 8 workers)."""

from __future__ import annotations

from collections import Counter

import pytest

from workbench.grid.placement import job_device

N_JOBS = 24


@pytest.mark.parametrize("n_gpus", [0, 1])
@pytest.mark.parametrize("requested", ["auto", "cpu", "cuda", "cuda:0"])
def test_with_no_gpu_or_one_every_job_keeps_the_requested_device(n_gpus, requested):
    assert {job_device(requested, n_gpus=n_gpus, index=k) for k in range(N_JOBS)} == {requested}


@pytest.mark.parametrize("n_gpus", [2, 4])
@pytest.mark.parametrize("requested", ["auto", "cuda"])
def test_several_gpus_take_the_jobs_in_turn(n_gpus, requested):
    devices = [job_device(requested, n_gpus=n_gpus, index=k) for k in range(N_JOBS)]
    assert devices == [f"cuda:{k % n_gpus}" for k in range(N_JOBS)]


@pytest.mark.parametrize("n_gpus", [0, 1, 2, 4])
@pytest.mark.parametrize("workers", range(1, 9))
def test_the_jobs_running_at_once_are_spread_evenly(n_gpus, workers):
    """The first `workers` jobs start together: no GPU holds two more than another, and every
    GPU is used once there are as many workers as GPUs."""
    running = Counter(job_device("auto", n_gpus=n_gpus, index=k) for k in range(workers))
    if n_gpus < 2:
        assert running == {"auto": workers}
        return
    per_gpu = [running[f"cuda:{g}"] for g in range(n_gpus)]
    assert sum(per_gpu) == workers and max(per_gpu) - min(per_gpu) <= 1
    assert min(per_gpu) >= 1 or workers < n_gpus


@pytest.mark.parametrize("requested", ["cpu", "cuda:1"])
def test_the_cpu_and_a_pinned_gpu_are_kept_on_a_multi_gpu_machine(requested):
    assert {job_device(requested, n_gpus=4, index=k) for k in range(N_JOBS)} == {requested}


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"requested": "gpu", "n_gpus": 2, "index": 0}, "device must be one of"),
    ({"requested": "auto", "n_gpus": -1, "index": 0}, "n_gpus must be an integer >= 0"),
    ({"requested": "auto", "n_gpus": 2, "index": -1}, "index must be an integer >= 0"),
])
def test_bad_arguments_raise_naming_them(kwargs, named):
    requested = kwargs.pop("requested")
    with pytest.raises(ValueError, match=named):
        job_device(requested, **kwargs)
