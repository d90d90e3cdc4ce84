"""`dvg_core` is tested alone: no test under tests/dvg_core imports `workbench`, and the whole
folder collects (every test module and the core it imports) with `workbench` blocked
(`tests/dvg_core/no_workbench.py`; the full run: `.venv/bin/python -m pytest -p
tests.dvg_core.no_workbench tests/dvg_core`)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_core_test_imports_workbench():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _imported_modules(p)
                                                  if m.split(".")[0] == "workbench")
                 for p in HERE.rglob("*.py")}
    assert not {p: m for p, m in offenders.items() if m}


def test_the_blocker_refuses_workbench():
    code = ("import tests.dvg_core.no_workbench\n"
            "try:\n    import workbench.runs\nexcept ModuleNotFoundError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "workbench.runs is blocked" in out or "workbench is blocked" in out


@pytest.mark.slow
def test_the_core_tests_collect_with_workbench_blocked():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.dvg_core.no_workbench", "-p", "no:xdist",
         "-p", "no:cacheprovider", "--collect-only", "-q", str(HERE)],
        cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ tests collected in [\d.]+s", last), last
