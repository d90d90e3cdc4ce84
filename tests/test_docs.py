"""The README and docs/: every link resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page):
    text = page.read_text()
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path = (page.parent / target).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{page.name}: {target}"


def test_the_readme_is_short_and_links_each_doc():
    readme = (ROOT / "README.md").read_text()
    assert len(readme) < 6000
    for name in ("usage", "design", "method", "results", "fidelity"):
        assert f"(docs/{name}.md)" in readme


OURS = PAGES


@pytest.mark.parametrize("page", OURS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_path_a_page_names_exists(page):
    pattern = r"(?:dvg_core|workbench|scripts|notebooks|tests)/[\w/]+\.(?:py|ipynb|sh)"
    missing = [p for p in re.findall(pattern, page.read_text()) if not (ROOT / p).exists()]
    assert not missing, f"{page.name} names files that do not exist: {missing}"
