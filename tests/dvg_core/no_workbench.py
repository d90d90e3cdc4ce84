"""A pytest plugin that makes `workbench` impossible to import, so the core's tests show that
`dvg_core` is tested alone:

    .venv/bin/python -m pytest -p tests.dvg_core.no_workbench tests/dvg_core

(`tests/dvg_core/test_isolation.py` runs the collection under it and checks the tests' own
imports.)"""

from __future__ import annotations

import importlib.abc
import sys


class _NoWorkbench(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "workbench" or name.startswith("workbench."):
            raise ModuleNotFoundError(f"{name} is blocked: the core's tests must not import "
                                      "workbench", name=name)
        return None


for _name in [n for n in sys.modules if n == "workbench" or n.startswith("workbench.")]:
    del sys.modules[_name]
sys.meta_path.insert(0, _NoWorkbench())
