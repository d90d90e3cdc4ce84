"""The one device helper: name checks, "auto" and GPU requests resolved against what torch sees
(the GPU count monkeypatched, so every case runs on the CPU)."""

from __future__ import annotations

import pytest
import torch

from dvg_core.util import device as device_module
from dvg_core.util.device import DEVICE_CHOICES, check_device_name, gpu_count, resolve_device


def _gpus(monkeypatch, n: int) -> None:
    """Make torch appear to see `n` GPUs."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n)


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:12"])
def test_good_names_pass_the_check(name):
    assert check_device_name(name) == name


@pytest.mark.parametrize("name", ["gpu", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cpu:0", "mps",
                                  "", " cpu", None, 0])
def test_bad_names_raise_naming_the_parameter_and_every_choice(name):
    with pytest.raises(ValueError, match=r"^device must be one of auto, cpu, cuda, cuda:N") as err:
        check_device_name(name)
    assert repr(name) in str(err.value)
    assert all(choice in str(err.value) for choice in DEVICE_CHOICES)


def test_the_error_names_the_callers_parameter():
    with pytest.raises(ValueError, match=r"^--device must be one of"):
        check_device_name("gpu", what="--device")


@pytest.mark.parametrize(("n_gpus", "expected"), [(0, "cpu"), (1, "cuda"), (4, "cuda")])
def test_auto_and_none_pick_cuda_exactly_when_torch_sees_a_gpu(monkeypatch, n_gpus, expected):
    _gpus(monkeypatch, n_gpus)
    assert resolve_device("auto") == resolve_device(None) == torch.device(expected)
    assert gpu_count() == n_gpus


def test_cpu_is_the_cpu_whatever_the_machine(monkeypatch):
    _gpus(monkeypatch, 2)
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_a_gpu_request_without_a_gpu_fails_instead_of_falling_back(monkeypatch, name):
    _gpus(monkeypatch, 0)
    with pytest.raises(ValueError, match=rf"^device '{name}' needs a CUDA GPU, but torch sees none"):
        resolve_device(name)


def test_a_gpu_index_beyond_the_machine_is_refused_with_the_valid_range(monkeypatch):
    _gpus(monkeypatch, 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device("cuda") == torch.device("cuda")
    with pytest.raises(ValueError, match=r"'cuda:2' names GPU 2, but torch sees 2 \(cuda:0 to cuda:1\)"):
        resolve_device("cuda:2")


def test_a_bad_name_is_refused_before_looking_for_a_gpu(monkeypatch):
    monkeypatch.setattr(device_module, "gpu_count", lambda: pytest.fail("looked for a GPU"))
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("gpu")
