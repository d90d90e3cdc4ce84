"""Faults at the edges (issue 31): memory bombs refused before work naming the key the user set,
a full disk named as such, SIGTERM handled as Ctrl-C, papermill timeouts, over-long names,
contradicting run roots, a config error read from params.json, and reports that never drop a
run or show a raw traceback. Each ends in a message naming the path or key and the cause, and a
record the next run resumes to the undisturbed result."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import papermill
import pytest
import torch

from dvg_core.envs import point_mass_spec
from workbench.report import render
from workbench.config import memory_budget as budget
from workbench.host import kernels
from workbench.cli.main import main
from workbench.config.overrides import apply_overrides
from workbench.records.provenance import read_sessions
from workbench.records.checks import verify_done
from workbench.train.record_session import failure_message
from workbench.records.run_record import MetricsWriter, RunRecord, record_path
from workbench.train.training_run import train
from tests.workbench.records.faults import (
    TINY, assert_failed_cleanly, assert_same_metrics, cli_train, tiny,
)


# ----------------------------------------------------------------- budgets before work
@pytest.mark.parametrize("key, value, named", [
    ("loop.batch_size", "1000000000", "batch_size"),
    ("algorithm.hidden", "[100000,100000]", "algorithm.hidden=[100000,100000]"),
])
def test_a_memory_bomb_is_refused_at_once_naming_the_key_set(key, value, named, tmp_path,
                                                              capsys):
    start = time.perf_counter()
    code, out, err = cli_train(tmp_path, capsys, "--set", f"{key}={value}")
    assert code == 2 and named in err and "Traceback" not in out + err
    assert not any(tmp_path.iterdir())  # no record written
    code = main(["reproduce", "toy", "--algos", "td3", "--seeds", "1", "--n-locations", "1",
                 "--run-root", str(tmp_path), "--no-report", "--no-progress",
                 *[f"--set={o}" for o in TINY], "--set", f"{key}={value}"])
    err = capsys.readouterr().err
    assert code == 2 and named in err and not any(tmp_path.iterdir())
    assert time.perf_counter() - start < 30


def test_the_budget_names_the_parts_the_memory_and_only_the_keys_set(tmp_path):
    config = apply_overrides(tiny(tmp_path), ["loop.replay_capacity=1000000000",
                                              "loop.batch_size=1000000"])  # unchecked
    parts = budget.estimate_bytes(config)
    assert parts["replay"] == 10**9 * (2 * 2 + 2 + 2) * 4  # (s, a, r, s', done) of the toy
    with pytest.raises(ValueError) as err:
        budget.check_budget(config, set_keys={"loop.batch_size": "1000000", "seed": "3"},
                            available=2**30)
    message = str(err.value)
    assert message.startswith("loop.batch_size=1000000: ") and "seed" not in message
    assert "more than the 1.0 GiB available on this machine" in message and "replay" in message
    budget.check_budget(tiny(tmp_path), available=2**30)  # a tiny run fits 1 GiB


def test_the_toys_n_is_limited_with_the_reason_and_its_locations_computed_once(tmp_path,
                                                                               capsys):
    code, out, err = cli_train(tmp_path, capsys, "--set", "env.kwargs.n_locations=100000000")
    assert code == 2 and "n_locations must be <= 1024" in err and "multimodal" in err
    spec = point_mass_spec("dvg/PointMass-v1", n_locations=5)
    first = spec.locations(dtype=torch.float64)
    assert spec.locations(dtype=torch.float64) is first  # cached, not rebuilt per step
    angle = 2 * torch.pi * torch.arange(5, dtype=torch.float64) / 5
    assert torch.equal(first, 0.6 * torch.stack([angle.cos(), angle.sin()], -1))
    assert spec.locations().dtype == torch.float32 and spec == point_mass_spec(
        "dvg/PointMass-v1", n_locations=5)


# ----------------------------------------------------------------- a full disk
def test_a_full_disk_in_torchs_checkpoint_writer_is_named_and_the_rerun_resumes(
        baseline, tmp_path, capsys, monkeypatch):
    """torch reports a full disk as `RuntimeError: ... unexpected pos` (a 3 MB tmpfs)."""
    save, calls = torch.save, []
    usage = namedtuple("usage", "total used free")

    def save_until_full(obj, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_bytes(b"PK\x03\x04partial")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 "
                               "vs 28")
        return save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_until_full)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(3 << 20, 3 << 20, 0))
    record = RunRecord(record_path(tiny(tmp_path)))
    code, out, err = cli_train(tmp_path, capsys)
    state = assert_failed_cleanly(code, out, err, record, "no space left on device at "
                                  f"{record.path / 'checkpoint.tmp'}", "re-run to resume")
    assert state["checkpoint_step"] == 100
    monkeypatch.undo()
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 0 and record.status == "done"
    assert_same_metrics(record, baseline)


def test_a_report_that_cannot_be_written_is_one_line_not_a_traceback(done_copy, capsys,
                                                                     monkeypatch):
    def full(path, text):
        raise OSError(28, "No space left on device", str(path))

    def executed(template, output, **kwargs):  # the notebook as if run (fast)
        shutil.copy(template, output)

    monkeypatch.setattr(render, "atomic_write_text", full)
    monkeypatch.setattr(papermill, "execute_notebook", executed)
    code = main(["report", str(done_copy.path)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert (f"error: cannot write the report of {done_copy.path}: no space left on device at "
            f"{done_copy.path / 'report.html'}") in err


# ----------------------------------------------------------------- signals and timeouts
@pytest.mark.slow
def test_sigterm_stops_train_like_ctrl_c_and_the_rerun_resumes(baseline, tmp_path):
    config = tiny(tmp_path, "steps=800")
    record = RunRecord(record_path(config))
    argv = [sys.executable, "-m", "workbench", "train", "--algo", "td3", "--run-root",
            str(tmp_path), "--experiment", "faults", "--no-progress",
            *[a for o in TINY for a in ("--set", o)], "--set", "steps=800"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not read_sessions(record.path):
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in out + err
    state = record.read_status()
    assert state["status"] == "failed" and state["message"].startswith("stopped by SIGTERM")
    assert f"status: failed ({state['message']})" in err
    assert train(config, progress=False).status == "done"  # resumed
    assert_same_metrics(record, train(tiny(tmp_path / "whole", "steps=800"), progress=False))


def test_a_papermill_timeout_says_timed_out_after_n_seconds():
    interrupted = papermill.PapermillExecutionError(0, 1, "", "KeyboardInterrupt", "", [])
    assert kernels.notebook_error(interrupted, 8.0).startswith("timed out after 8 s")
    assert kernels.notebook_error(TimeoutError("Cell execution timed out"), 8.0).startswith(
        "timed out after 8 s")
    failed = papermill.PapermillExecutionError(0, 1, "", "ValueError", "bad", [])
    assert kernels.notebook_error(failed, 8.0) == "ValueError: bad"


# ----------------------------------------------------------------- names and roots
@pytest.mark.parametrize("option, value, message", [
    ("--experiment", "e" * 300, "experiment must be at most 255 characters"),
    ("--run-root", "/tmp/" + "r" * 300, "the file system allows 255 (NAME_MAX)"),
    ("--run-root", "/tmp/" + "r/" * 2100, "4096-character limit on a path (PATH_MAX)"),
])
def test_over_long_names_are_refused_with_the_file_systems_limit(option, value, message,
                                                                 capsys):
    code = main(["train", "--algo", "td3", option, value, "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in out + err


def test_set_run_root_cannot_contradict_run_root(tmp_path, capsys):
    for command in (["reproduce", "toy", "--no-report"], ["train"]):
        code = main([*command, "--run-root", str(tmp_path / "A"), "--set",
                     f"run_root={tmp_path / 'B'}", "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and f"--set run_root={tmp_path / 'B'} contradicts --run-root" in err
    assert not any(tmp_path.iterdir())


def test_a_config_error_in_params_json_names_the_file(done_copy, tmp_path, capsys):
    params = json.loads(done_copy.params_path.read_text())
    params["config"]["zzz"] = 1
    done_copy.params_path.write_text(json.dumps(params))
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 2 and "Traceback" not in out + err
    assert f"{done_copy.params_path} holds no valid config: unknown config key 'zzz'" in err


# ----------------------------------------------------------------- reports drop nothing
def test_an_empty_metrics_file_is_empty_not_missing_and_the_remedy_fits_reproduce(done_copy):
    done_copy.metrics_path.write_text("")
    (problem,) = verify_done(checkpoint=done_copy.checkpoint_path,
                             metrics=done_copy.metrics_path, total_steps=200, log_every=50)
    assert problem == f"{done_copy.metrics_path} is empty"
    done_copy.metrics_path.write_text("garbage\x00,1\n")
    (problem,) = verify_done(checkpoint=done_copy.checkpoint_path,
                             metrics=done_copy.metrics_path, total_steps=200, log_every=50)
    assert f"delete {done_copy.path} to train it afresh" in problem


def _no_eval_rows(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if ",eval," not in line))


DAMAGE = {"empty": lambda p: p.write_text(""),
          "garbled": lambda p: p.write_bytes(b"\x00\xff,x\n"),
          "no evaluation": _no_eval_rows}


def _copy_as(baseline, root: Path, experiment: str, seed: int) -> RunRecord:
    """The baseline's record as seed `seed` of `experiment` under `root`."""
    target = record_path(tiny(root, f"seed={seed}", f"experiment={experiment}"))
    shutil.copytree(baseline.path, target)
    params = json.loads((target / "params.json").read_text())
    params["run_id"], params["config"]["seed"] = target.name, seed
    params["config"]["experiment"] = experiment
    (target / "params.json").write_text(json.dumps(params))
    (target / ".lock").unlink(missing_ok=True)
    return RunRecord(target)


def test_reports_name_every_done_run_they_cannot_draw_and_show_no_traceback(baseline,
                                                                            tmp_path, capsys):
    """`mixed`: a good run and one with an empty metrics.csv (the report said `td3 (n=1)` and
    never named the other); `damaged`: only runs with garbled metrics or no evaluation yet (the
    report ended in `KeyError: 'algo'`), as `report` on one such record did."""
    _copy_as(baseline, tmp_path, "mixed", 0)
    damaged = {"empty": _copy_as(baseline, tmp_path, "mixed", 1)}
    damaged |= {name: _copy_as(baseline, tmp_path, "damaged", seed)
                for seed, name in enumerate(["garbled", "no evaluation"])}
    for name, record in damaged.items():
        DAMAGE[name](record.metrics_path)
    code = main(["report", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err, err
    mixed = (tmp_path / "mixed" / "report.html").read_text()
    assert "Traceback" not in mixed and "(n=1)" in mixed
    assert f"left out of the figures: {damaged['empty'].metrics_path} is empty" in mixed
    html = (tmp_path / "damaged" / "report.html").read_text()
    assert "Traceback" not in html
    assert f"left out of the figures: {damaged['garbled'].metrics_path} is unreadable" in html
    assert "left out of the figures: no evaluation row yet" in html


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_metrics_row_that_meets_a_full_disk_names_the_file(tmp_path):
    writer = MetricsWriter(tmp_path / "metrics.csv")
    writer.write({"step": 0, "kind": "train", "loss": 1.0})
    writer.path = Path("/dev/full")  # every write there fails with ENOSPC, naming no file
    with pytest.raises(OSError) as err:
        writer.write({"step": 1, "kind": "train", "loss": 0.5})
    assert failure_message(err.value).startswith("no space left on device at /dev/full")
