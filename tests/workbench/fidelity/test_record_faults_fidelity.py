"""Fidelity row files are records too (issue 31): a torn row file is repaired and named, a series
counts as done only when all its rows are there, and two runs on one `--json` lock each other out
per part file, so every row is written once. Each case is compared with an undisturbed grid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main as cli
from workbench.fidelity.critic_grid import load_rows
from workbench.records.row_files import RowsBusy, complete_series, read_rows, row_lock

TINY = ["fidelity", "--n-locations", "3", "--gamma", "0.5", "--noise", "0.05", "--algos",
        "td3,iqn", "--updates", "4", "--checkpoints", "2", "--seeds", "1", "--exact-updates",
        "2", "--probes", "4", "--truth-samples", "8", "--regression-pairs", "64",
        "--workers", "1", "--no-progress"]
"""Two critics, the two references: 4 series of 2 rows each, in one part file."""


def _run(json_path, capsys):
    code = cli.main([*TINY, "--json", str(json_path)])
    out, err = capsys.readouterr()
    return code, out, err


def _part(json_path: Path) -> Path:
    (part,) = json_path.with_name(json_path.name + ".d").glob("*.jsonl")
    return part


def _without_time(rows):
    return sorted((json.dumps({k: v for k, v in r.items() if k != "seconds"}, sort_keys=True)
                   for r in rows))


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory):
    path = tmp_path_factory.mktemp("undisturbed") / "f.json"
    assert cli.main([*TINY, "--json", str(path)]) == 0
    return load_rows(path)


@pytest.fixture
def grid(tmp_path, undisturbed, capsys):
    """A finished grid of its own (8 rows)."""
    path = tmp_path / "f.json"
    assert _run(path, capsys)[0] == 0
    return path


def test_the_undisturbed_grid_has_every_row_once(undisturbed):
    keys = [(r["algorithm"], r["kind"], r["updates"]) for r in undisturbed]
    assert sorted(keys) == sorted([("td3", "critic", 2), ("td3", "critic", 4),
                                   ("iqn", "critic", 2), ("iqn", "critic", 4),
                                   ("dsdpg_msmmd", "regression", 2),
                                   ("dsdpg_msmmd", "regression", 4),
                                   ("dsdpg_msmmd", "exact_targets", 1),
                                   ("dsdpg_msmmd", "exact_targets", 2)])


def test_a_torn_row_file_is_repaired_named_and_completed(grid, undisturbed, capsys):
    part = _part(grid)
    text = part.read_bytes()
    part.write_bytes(text[: len(text) - 40])  # the last row torn mid-line, as by kill -9
    code, out, err = _run(grid, capsys)
    assert code == 0 and "Traceback" not in out + err
    assert f"repaired {part}" in err and "torn" in err
    assert _without_time(load_rows(grid)) == _without_time(undisturbed)
    lines = part.read_text().splitlines()
    assert len(lines) == 8 and all(json.loads(line) for line in lines)  # no row lost, none twice


def test_a_series_with_a_row_missing_is_not_done_and_is_trained_again(grid, undisturbed,
                                                                      capsys):
    part = _part(grid)
    lines = part.read_text().splitlines(keepends=True)
    first = json.loads(lines[0])
    assert (first["algorithm"], first["updates"]) == ("td3", 2)
    part.write_text("".join(lines[1:]))  # td3's first row lost: one row alone is no series
    code, out, err = _run(grid, capsys)
    assert code == 0
    rows = read_rows(part)
    assert sorted((r["algorithm"], r["updates"]) for r in rows if r["algorithm"] == "td3") == [
        ("td3", 2), ("td3", 4)]
    assert _without_time(load_rows(grid)) == _without_time(undisturbed)


def test_a_part_file_another_run_holds_is_skipped_and_named(tmp_path, undisturbed, capsys):
    path = tmp_path / "f.json"
    part_dir = path.with_name(path.name + ".d")
    part = part_dir / "n3_gamma0.5_noise0.05_seed0.jsonl"
    with row_lock(part):  # another run, as far as the lock can tell
        with pytest.raises(RowsBusy):
            with row_lock(part):
                pass
        code, out, err = _run(path, capsys)
    assert code == 3 and "Traceback" not in out + err
    assert f"skipped: {part} is being written by another process" in err
    assert "incomplete: 4 series have rows missing" in err
    assert not part.exists() and load_rows(path) == []
    code, out, err = _run(path, capsys)  # the lock released: the re-run completes the grid
    assert code == 0 and _without_time(load_rows(path)) == _without_time(undisturbed)


def test_complete_series_wants_every_value_once():
    rows = [{"k": "a", "u": 1}, {"k": "a", "u": 2}, {"k": "a", "u": 2, "dup": True},
            {"k": "b", "u": 1}, {"k": "c", "u": 1}]
    done = complete_series(rows, lambda r: r["k"], {"a": {1, 2}, "b": {1, 2}}, "u")
    assert done == {"a": [{"k": "a", "u": 1}, {"k": "a", "u": 2}]}


@pytest.mark.slow
def test_two_concurrent_fidelity_runs_write_every_row_once(tmp_path, undisturbed):
    path = tmp_path / "f.json"
    argv = [sys.executable, "-m", "workbench", *TINY, "--json", str(path)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 3]), outputs  # 3: it met the other's lock and said so
    assert all("Traceback" not in out + err for out, err in outputs)
    lines = _part(path).read_text().splitlines()
    assert len(lines) == 8  # each row written once
    assert _without_time(load_rows(path)) == _without_time(undisturbed)
