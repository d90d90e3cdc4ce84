"""The workbench's command line: `python -m workbench COMMAND ...`: `train`, `reproduce`,
`report` and `config` here, the measurements (`bench`, `fidelity`, `model-fidelity`) in
`workbench.cli.measure_commands`.

The parser (`workbench.cli.parser`) imports no torch; each handler imports what its command
needs when it runs, so `--help`, a typo and `config --list`'s parse answer at once.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any, TextIO

from workbench.cli.measure_commands import bench, fidelity, model_fidelity
from workbench.cli.parser import build_parser
from dvg_core.names import ALGORITHMS, ENV_IDS, NOISE_SETTINGS
from workbench.config.names import ALIASES, COMMANDS, PRESET_NAMES, check_choice, did_you_mean

__all__ = ["build_parser", "main"]

_CHOICES = {"algorithm.name": ALGORITHMS, "env.env_id": ENV_IDS, "env.noise": NOISE_SETTINGS}


def _check_names(preset: str | None, overrides: list[str]) -> None:
    """Named values that have a fixed set of choices, checked before torch loads, so a typo is
    answered with a suggestion (`ValueError`)."""
    if preset is not None:
        check_choice("preset", preset, PRESET_NAMES)
    for item in overrides:
        key, sep, value = item.partition("=")
        key = ALIASES.get(key.strip(), key.strip())
        if sep and key in _CHOICES:
            check_choice(key, value.strip(), _CHOICES[key])


def _overrides(args: argparse.Namespace) -> list[str]:
    named = {"algorithm.name": args.algo, "env.env_id": args.env, "seed": args.seed,
             "device": args.device, "run_root": args.run_root, "experiment": args.experiment}
    _check_no_contradiction(named, args.overrides)
    return [f"{k}={v}" for k, v in named.items() if v is not None] + args.overrides


_OPTIONS = {"algorithm.name": "--algo", "env.env_id": "--env", "seed": "--seed",
            "device": "--device", "run_root": "--run-root", "experiment": "--experiment"}
"""The config keys a command-line option sets, and the option."""


def _check_no_contradiction(named: dict[str, object], overrides: list[str]) -> None:
    """`ValueError` for a `--set KEY=VALUE` that contradicts the option setting KEY (`--set
    run_root=B` with `--run-root A`); `None` in `named` is an option not given."""
    for item in overrides:
        key, sep, value = item.partition("=")
        key = ALIASES.get(key.strip(), key.strip())
        given = named.get(key)
        if sep and given is not None and value.strip() != str(given):
            raise ValueError(f"--set {item.strip()} contradicts {_OPTIONS[key]} {given}; give "
                             f"{key} once (with {_OPTIONS[key]})")


def _train(args: argparse.Namespace) -> int:
    try:
        _check_names(args.preset, _overrides(args))
        from workbench.config.presets import preset
        from workbench.train.training_run import TrainingRun

        config = preset(args.preset, _overrides(args))
        run = TrainingRun([config], resume=args.resume, progress=args.progress)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from workbench.records.checks import RecordError
    from workbench.records.lock import RecordBusy
    from workbench.train.record_session import failure_message
    from workbench.host.stops import Stopped, exit_code

    try:
        (record,) = run.execute()
    except RecordBusy as err:
        print(f"skipped: {err}", file=sys.stderr)
        return 3
    except (Exception, KeyboardInterrupt) as err:
        if not isinstance(err, (RecordError, OSError, KeyboardInterrupt)):
            traceback.print_exc()  # a bug, not a fault of the record or the machine
        print(f"error: {failure_message(err)}", file=sys.stderr)
        written = _print_status(run.records[0], sys.stderr)
        if isinstance(err, Stopped):
            return exit_code(err)
        return 1 if written or isinstance(err, KeyboardInterrupt) else 2
    _print_status(record, sys.stdout)
    print(f"report: python -m workbench report {record.path}\n"
          f"tensorboard: tensorboard --logdir {record.path.parent}")
    return 0 if record.status == "done" else 1


def _print_status(record: Any, file: TextIO) -> bool:
    """Print the record's path and what its status.json says; whether it has one."""
    from workbench.records.checks import RecordError

    print(f"record: {record.path}", file=file)
    try:
        state = record.read_status()
    except RecordError as err:
        print(f"status: unreadable ({err})", file=file)
        return True
    if state is None:
        print("status: none (no record was written)", file=file)
        return False
    print(f"status: {state['status']} ({state['message']})", file=file)
    return True


def _experiment(args: argparse.Namespace) -> str:
    """The grid `reproduce` runs: the experiment, or `ablation-NAME` for `ablation NAME`;
    `ValueError` for a missing, unknown or stray NAME, or a stray `--list`."""
    if args.list_ablations:
        raise ValueError("--list goes with `reproduce ablations --list`")
    if args.experiment != "ablation":
        if args.name is not None:
            raise ValueError(f"unexpected {args.name!r}: only `reproduce ablation NAME` takes a "
                             "name")
        return args.experiment
    if args.name is None:
        raise ValueError("`reproduce ablation` needs a NAME (python -m workbench reproduce "
                         "ablations --list)")
    from workbench.experiments.ablations import ABLATION_PREFIX, get_ablation

    return ABLATION_PREFIX + get_ablation(args.name).name


def _reproduce(args: argparse.Namespace) -> int:
    if args.experiment == "ablations" and args.name is None:
        from workbench.experiments.ablations import format_ablations

        print(format_ablations())
        return 0
    try:
        experiment = _experiment(args)
        _check_names(args.preset, args.overrides)
        _check_no_contradiction({"run_root": args.run_root, "experiment": experiment},
                                args.overrides)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from workbench.grid.batch import GridOptions, reproduce  # papermill loads here
    from workbench.report.render import ReportError

    options = GridOptions(preset=args.preset, seeds=args.seeds, algos=args.algos,
                          n_locations=args.n_locations, tasks=args.tasks, noises=args.noises,
                          overrides=tuple(args.overrides), compile=args.compile,
                          device=args.device)
    try:
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        grid, html = reproduce(experiment, options, run_root=args.run_root,
                               workers=args.workers, dask=args.dask, timeout_s=args.timeout,
                               report=args.report, progress=args.progress,
                               vectorize_seeds=args.vectorize_seeds)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        from workbench.host.stops import exit_code, stop_message

        print(f"{stop_message(err)}: a re-run resumes the unfinished cells", file=sys.stderr)
        return exit_code(err)
    except ReportError as err:  # the grid ran (its summary is printed); its report did not
        print(f"error: {err}", file=sys.stderr)
        return 1
    if html is not None:
        print(html)
    return 1 if grid.failed else 0


def _report(args: argparse.Namespace) -> int:
    from workbench.report.render import open_in_browser, report_targets

    try:
        targets = report_targets(args.path)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from workbench.report.render import ReportError, render_report  # papermill loads here

    paths, failed = [], 0
    for target in targets:  # one report that fails never stops the others
        try:
            paths.append(render_report(target, timeout_s=args.timeout))
        except ReportError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
        except KeyboardInterrupt as err:
            from workbench.host.stops import exit_code, stop_message

            print(f"{stop_message(err)}", file=sys.stderr)
            return exit_code(err)
    for path in paths:
        print(path)
    if failed:
        return 1
    if args.open_browser and not all(open_in_browser(path) for path in paths):
        print("no web browser found here; open the file above in one", file=sys.stderr)
    return 0


def _config(args: argparse.Namespace) -> int:
    try:
        _check_names(args.preset, args.overrides)
        from workbench.config.presets import preset
        from workbench.config.key_listing import config_keys, format_keys

        config = preset(args.preset, args.overrides)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_keys(config_keys(config)) if args.list_keys else config.to_json())
    return 0


_HANDLERS = {"train": _train, "reproduce": _reproduce, "report": _report, "config": _config,
             "bench": bench, "fidelity": fidelity, "model-fidelity": model_fidelity}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(f"error: unknown command {argv[0]!r}{did_you_mean(argv[0], COMMANDS)} "
              f"(commands: {', '.join(COMMANDS)}; python -m workbench --help)", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    return _HANDLERS[args.command](args)
