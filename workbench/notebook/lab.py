"""`make lab`: JupyterLab on working copies of the notebooks, never on the templates.

`notebooks/*.ipynb` are the papermill templates the batch runner executes, committed stripped.
Lab autosaves outputs and edited parameters into whatever it opens, so `make lab` opens `lab/`
(git-ignored) instead, seeded with a copy of each template that is not there yet; an edited copy
is never overwritten (delete it to get the current template). The notebooks resolve relative
paths from the repository root (`workbench.host.paths.repo_path`), so runs written from `lab/` land
in the repository's `runs/`, where the CLI looks.

Run as `python -m workbench.notebook.lab [LAB_DIR]`: prints the copies it made.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from workbench.host.paths import REPO_ROOT

__all__ = ["LAB_DIR", "TEMPLATES", "prepare_lab"]

TEMPLATES = REPO_ROOT / "notebooks"
"""The committed notebooks (papermill templates)."""
LAB_DIR = REPO_ROOT / "lab"
"""Where `make lab` opens JupyterLab."""


def prepare_lab(lab_dir: str | Path = LAB_DIR, templates: str | Path = TEMPLATES) -> list[Path]:
    """Copy each `templates/*.ipynb` missing from `lab_dir` into it; returns the new copies."""
    lab_dir, templates = Path(lab_dir), Path(templates)
    lab_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for template in sorted(templates.glob("*.ipynb")):
        copy = lab_dir / template.name
        if not copy.exists():
            shutil.copyfile(template, copy)
            copied.append(copy)
    return copied


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else LAB_DIR
    for path in prepare_lab(target):
        print(f"copied {path.name} into {target}")
    print(f"JupyterLab opens copies in {target}/ (delete one to get the current template); "
          "the templates in notebooks/ stay clean")
