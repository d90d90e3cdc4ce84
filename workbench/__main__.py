"""`python -m workbench ...`: the workbench's command line.

SIGTERM (`kill PID`, a batch scheduler's stop) is handled as Ctrl-C is (`workbench.host.stops`): a
stopped `train` records `failed` saying so, a stopped `reproduce` terminates its workers instead
of leaving them training."""

from workbench.cli.main import main
from workbench.host.stops import handle_sigterm

handle_sigterm()
raise SystemExit(main())
