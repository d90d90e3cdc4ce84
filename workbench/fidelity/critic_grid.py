"""The critic-fidelity benchmark as a grid: `python -m workbench fidelity`.

For every setting (N reward locations × γ × dynamics noise), algorithm, variant (the defaults, or
the paper's settings) and seed, `dvg_core.analysis.fidelity_runs.evaluate_critic` trains one critic by
policy evaluation and measures it against the Monte-Carlo truth at several update counts; the two
reference rows (`exact_targets`, `regression`) say what the network can reach. Rows are written as
they finish to `<json>.d/<setting>_seed<k>.jsonl` (one file per setting and seed, one writer
each, which holds its lock: `workbench.records.row_files`; the setting's probes and truth are cached
beside them), so an interrupted grid resumes where it stopped: a series (one algorithm, kind,
variant and seed) counts as done only when all its rows are there, a torn file is repaired, and
a file another run holds is skipped. The merged list of the complete series goes to the JSON file
at the end. Tables and acceptance criteria:
`workbench.fidelity.critic_tables`.

Each JSON row holds `algorithm`, `kind`, `variant`, `seed`, `config` (a fingerprint of the
row's `AlgorithmConfig`: a resumed grid re-trains rows whose settings changed), `n_locations`,
`gamma`, `noise`, `updates`, `seconds` and the metrics of `dvg_core.analysis.fidelity.FIDELITY_METRICS`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from dvg_core.agents import AlgorithmConfig
from dvg_core.agents.config import flat_dict
from dvg_core.analysis.fidelity import FIDELITY_METRICS, FidelitySetting
from workbench.fidelity.critic_options import FidelityOptions, algorithm_config
from workbench.fidelity.critic_tables import series_key
from workbench.host.orphans import exit_with_parent
from workbench.records.row_files import (
    RowsBusy, append_rows, complete_series, merge_lock, read_rows, row_lock, write_rows,
)
from workbench.records.run_record import atomic_write_text

__all__ = [
    "config_fingerprint",
    "incomplete_series",
    "load_rows",
    "run_fidelity",
]

def _checkpoints(updates: int, n: int) -> tuple[int, ...]:
    return tuple(sorted({round(updates * (i + 1) / n) for i in range(n)}))


_LATER_FIELDS = {"actor_saturation_penalty": 0.0, "lam_state": None, "slicing_fresh_search": False,
                 "shared_target_draws": False}
"""`AlgorithmConfig` fields added after the committed rows, with the value that changes nothing."""


def config_fingerprint(config: AlgorithmConfig) -> str:
    """A short hash of every field of `config`: rows trained under other settings (an older
    default, say) are never taken for this config's on resume."""
    fields = flat_dict(dataclasses.asdict(config))  # the groups' and max-slicing's options
    fields |= {f"slicing_{k}": v for k, v in fields.pop("slicing").items()}  # under their flat
    # names, as when the rows began
    for name, neutral in _LATER_FIELDS.items():  # at its neutral value, a field added after
        if fields[name] == neutral:  # the rows were written leaves their fingerprint alone
            del fields[name]
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _job_key(options: FidelityOptions, setting: tuple[int, float, float], job: tuple) -> tuple:
    """A job's row key with its config's fingerprint."""
    config = algorithm_config(job[0], job[2], setting[1], options.hidden)
    return (*job[:4], config_fingerprint(config))


def _row_key(row: dict[str, Any]) -> tuple:
    return (*series_key(row), row.get("config"))


def _part_path(parts: Path, setting: tuple[int, float, float], seed: int) -> Path:
    n, gamma, noise = setting
    return parts / f"n{n}_gamma{gamma}_noise{noise}_seed{seed}.jsonl"


def _probe_path(parts: Path, setting: tuple[int, float, float], options: FidelityOptions) -> Path:
    n, gamma, noise = setting
    sizes = f"{options.n_probes}x{options.n_truth}_{options.n_regression}_v2"  # v2: with ∇ₛG
    return parts / f"n{n}_gamma{gamma}_noise{noise}_probes{sizes}.pt"


def _wanted(options: FidelityOptions, setting: tuple[int, float, float],
            seed: int) -> dict[tuple, set[int]]:
    """Every series (row key) of one setting and seed -> the update counts of its rows."""
    return {_job_key(options, setting, job): set(_checkpoints(job[4], options.n_checkpoints))
            for job in options.jobs(seed)}


def _complete_rows(options: FidelityOptions, setting: tuple[int, float, float], seed: int,
                   rows: list[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    """The series of one setting and seed whose rows are all among `rows`, by key."""
    return complete_series(rows, _row_key, _wanted(options, setting, seed), "updates")


def _run_task(task: tuple[FidelityOptions, tuple[int, float, float], int, str]) -> int:
    """Worker: every pending job of one setting and seed, each series appended to its part file
    in one write, holding the part file's lock (`workbench.records.row_files`; -1 if another process
    holds it: skipped). A series with rows missing (a torn file, repaired) is trained again."""
    options, setting, seed, parts = task
    path = _part_path(Path(parts), setting, seed)
    try:
        with row_lock(path):
            return _run_locked(options, setting, seed, path)
    except RowsBusy as err:
        print(f"skipped: {err}", file=sys.stderr)
        return -1


def _run_locked(options: FidelityOptions, setting: tuple[int, float, float], seed: int,
                path: Path) -> int:
    import torch

    from dvg_core.analysis.fidelity_runs import evaluate_critic, load_probe, make_probe, save_probe

    torch.set_num_threads(1)
    rows = read_rows(path, repair=True)
    done = _complete_rows(options, setting, seed, rows)
    wanted = _wanted(options, setting, seed)
    partial = {_row_key(r) for r in rows} & (set(wanted) - set(done))
    if partial:  # drop the cut-short series' rows: they are trained again, never duplicated
        write_rows(path, [r for r in rows if _row_key(r) not in partial])
    pending = [job for job in options.jobs(seed) if _job_key(options, setting, job) not in done]
    if not pending:
        return 0
    fidelity_setting = FidelitySetting(*setting)
    probe_path = _probe_path(path.parent, setting, options)
    if probe_path.exists():
        probe = load_probe(fidelity_setting, probe_path)
    else:
        probe = make_probe(fidelity_setting, n_probes=options.n_probes, n_truth=options.n_truth,
                           n_regression=options.n_regression)
        save_probe(probe, probe_path)
    for name, kind, variant, seed, updates in pending:
        config = algorithm_config(name, variant, fidelity_setting.gamma, options.hidden)
        rows = evaluate_critic(config, probe, kind=kind, seed=seed,
                               checkpoints=_checkpoints(updates, options.n_checkpoints),
                               batch_size=options.batch_size)
        append_rows(path, [{"algorithm": name, "kind": kind, "variant": variant, "seed": seed,
                            "config": config_fingerprint(config), "n_locations": setting[0],
                            "gamma": setting[1], "noise": setting[2], **row} for row in rows])
    return len(pending)


def incomplete_series(options: FidelityOptions, json_path: str | Path) -> list[str]:
    """The series of the grid whose rows are not all in the part files yet (another process
    still writes them, or a run stopped): one `setting seed: algorithm kind variant` each."""
    parts = Path(json_path).with_name(Path(json_path).name + ".d")
    missing = []
    for seed in options.seeds:
        for setting in options.settings():
            rows = read_rows(_part_path(parts, setting, seed))
            done = _complete_rows(options, setting, seed, rows)
            missing += [f"n={setting[0]} gamma={setting[1]} noise={setting[2]} seed={seed}: "
                        f"{' '.join(map(str, key[:3]))}"
                        for key in _wanted(options, setting, seed) if key not in done]
    return missing


def load_rows(json_path: str | Path) -> list[dict[str, Any]]:
    """The rows of a fidelity JSON file (a list of row dicts), with a clear error if unreadable."""
    path = Path(json_path)
    try:
        rows = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"fidelity file {path} cannot be read as JSON: {err}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"fidelity file {path} must hold a JSON list of rows")
    missing = [k for k in ("algorithm", "n_locations", "gamma", "noise", "updates",
                           *FIDELITY_METRICS) if rows and k not in rows[0]]
    if missing:
        raise ValueError(f"fidelity file {path}: rows lack the keys {missing}")
    return rows


def run_fidelity(
    options: FidelityOptions, json_path: str | Path, *, workers: int = 1, progress: bool = True,
) -> list[dict[str, Any]]:
    """Run (or resume) the grid; write and return every row (see the module docstring)."""
    json_path = Path(json_path)
    parts = json_path.with_name(json_path.name + ".d")
    parts.mkdir(parents=True, exist_ok=True)
    settings = options.settings()
    # Seed-major: an interrupted grid holds whole seeds of every setting, not whole settings.
    tasks = [(options, setting, seed, str(parts)) for seed in options.seeds for setting in settings]
    bar = tqdm(total=len(tasks), unit="task", desc="fidelity", file=sys.stderr,
               disable=not progress)
    if workers <= 1:
        for task in tasks:
            _run_task(task)
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(tasks)), initializer=exit_with_parent,
                          initargs=(os.getpid(),)) as pool:  # workers die with this process
            for _ in pool.imap_unordered(_run_task, tasks):
                bar.update()
    bar.close()
    with merge_lock(json_path):  # the last of two runs merges what both wrote
        rows = []
        for setting in settings:
            for seed in options.seeds:
                part = read_rows(_part_path(parts, setting, seed))  # rows of complete series,
                complete = _complete_rows(options, setting, seed, part)  # once, in file order
                kept = {id(row) for series in complete.values() for row in series}
                rows += [row for row in part if id(row) in kept]
        atomic_write_text(json_path, json.dumps(rows, indent=1))
    return rows
