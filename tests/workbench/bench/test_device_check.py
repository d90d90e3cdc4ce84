"""scripts/device_check.sh and scripts/device_agreement.py, the prepared GPU check: bad input is
refused before any work, and on the CPU the compiled update agrees with the eager one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _agreement(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/device_agreement.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_an_unknown_algorithm_is_refused_naming_the_flag_and_the_choices():
    result = _agreement("--device", "cpu", "--algos", "td3,nope")
    assert result.returncode == 2
    assert "--algos" in result.stderr and "nope" in result.stderr and "dsdpg_msmmd" in result.stderr


def test_the_check_refuses_a_device_it_does_not_know_before_any_work(tmp_path):
    result = subprocess.run(["bash", "scripts/device_check.sh", str(tmp_path / "out")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env=os.environ | {"DEVICE": "tpu", "PYTHON": sys.executable})
    assert result.returncode == 2 and "DEVICE must be cpu, cuda or cuda:N" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_compiled_td3_agrees_with_eager_on_the_cpu():
    result = _agreement("--device", "cpu", "--algos", "td3", "--updates", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "td3" in result.stdout and "agree" in result.stdout
