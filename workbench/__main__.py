"""`python -m workbench ...`: the workbench's command line.

SIGTERM (`kill PID`, a batch scheduler's stop) raises SystemExit like Ctrl-C's KeyboardInterrupt,
so a stopped `reproduce` terminates its workers instead of leaving them training."""

import signal
import sys

from workbench.cli import main


def _exit_on_sigterm(signum, frame):
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _exit_on_sigterm)
raise SystemExit(main())
