"""`python -m workbench ...`: the workbench's command line."""

from workbench.cli import main

raise SystemExit(main())
