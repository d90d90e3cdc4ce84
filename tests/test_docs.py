"""The README and docs/: every link (and anchor) resolves inside the repository, every file a page
names exists, every `python -m workbench ...` and `make ...` command a page shows names a real
command, real flags and real `--set` keys, and the how-to pages quote their tested examples
verbatim."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
MANUAL = [p for p in PAGES if DOCS / "results" not in p.parents]  # docs/results/: data tables
COMMANDS_PAGE = DOCS / "reference" / "commands.md"
SUBCOMMANDS = ("train", "reproduce", "report", "config", "bench", "fidelity", "model-fidelity")
CONFIG_PAGE = DOCS / "reference" / "config.md"


def _id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading: lower case, punctuation dropped (letters of any
    script, digits, `-` and `_` kept), each space a hyphen."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # no headings in code
    return {github_anchor(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_relative_link_and_anchor_resolves_inside_the_repository(page):
    text = page.read_text()
    assert "../shared" not in text
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path = (page.parent / target).resolve() if target else page
        assert path.is_relative_to(ROOT) and path.exists(), f"{_id(page)}: {target}"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{_id(page)}: {target}#{anchor}"


def test_the_github_anchor_rule():
    assert github_anchor("Why the spread misses at γ = 0.9") == "why-the-spread-misses-at-γ--09"
    assert github_anchor("2026-12-02 · The ablations") == "2026-12-02--the-ablations"
    assert github_anchor("The complete operator (`dsdpg_complete`)") == \
        "the-complete-operator-dsdpg_complete"


def test_the_readme_is_short_and_leads_to_every_part_of_the_docs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme) < 6000
    assert "make test" in readme and "make reproduce" in readme
    for target in ("docs/README.md", "docs/guide/", "docs/concepts/", "docs/howto/",
                   "docs/reference/", "docs/lab/"):
        assert f"]({target}" in readme, target


def test_the_docs_index_links_every_page_of_the_manual():
    index = (DOCS / "README.md").read_text()
    linked = {(DOCS / t).resolve() for t in re.findall(r"\]\(([^)#\s]+)", index)}
    for part in ("guide", "concepts", "howto", "reference"):
        for page in sorted((DOCS / part).glob("*.md")):
            assert page.resolve() in linked, f"docs/README.md does not link {_id(page)}"
    assert (DOCS / "lab" / "README.md").resolve() in linked
    lab_index = (DOCS / "lab" / "README.md").read_text()
    for page in sorted((DOCS / "lab").glob("*.md")):
        assert page.name == "README.md" or f"]({page.name})" in lab_index, page.name


@pytest.mark.parametrize("page", MANUAL, ids=_id)
def test_every_file_path_a_page_names_exists(page):
    pattern = r"(?:dvg_core|workbench|scripts|notebooks|tests|docs)/[\w/.-]+\.(?:py|ipynb|sh|md|json|yml)"
    missing = [p for p in re.findall(pattern, page.read_text())  # a `--json` path: its rows in .d
               if not any(base.exists() for base in (ROOT / p, page.parent / p, ROOT / f"{p}.d"))]
    assert not missing, f"{_id(page)} names files that do not exist: {missing}"


# --- commands -----------------------------------------------------------------------------------

def command_help() -> dict[str, str]:
    """Sub-command -> its `--help` text, from the generated docs/reference/commands.md (which
    tests/test_docs_reference.py keeps equal to the command line's own)."""
    sections = re.split(r"^## `([\w-]+)`$", COMMANDS_PAGE.read_text(), flags=re.M)
    return dict(zip(sections[1::2], sections[2::2]))


def config_keys() -> set[str]:
    """Every `--set` key and alias, from the generated docs/reference/config.md."""
    text = CONFIG_PAGE.read_text()
    return set(re.findall(r"^\| `([\w.]+)` \|", text, flags=re.M)) | set(
        re.findall(r"^\* `([\w.]+)` = ", text, flags=re.M))


def make_targets() -> set[str]:
    return set(re.findall(r"^([\w./-]+):", (ROOT / "Makefile").read_text(), flags=re.M))


def shown_commands(text: str) -> list[str]:
    """Every `python -m workbench ...` and `make ...` command of a page: the lines of its code
    blocks (continuations joined, comments dropped) and its inline code spans."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            found.append(line.split(" #")[0].strip())
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found += re.findall(r"`([^`\n]+)`", prose)
    pattern = r"(?:^|\s)(?:\S*python -m workbench|dvg-workbench|(?:\w+=\S+ )*make) "
    bare = rf"^(?:\.\.\. )?((?:{'|'.join(SUBCOMMANDS)}) --.*)"  # `bench --problems toy ...`
    return [c for c in found if re.search(pattern, c)] + [
        f"python -m workbench {m.group(1)}" for c in found
        if not re.search(pattern, c) and (m := re.match(bare, c))]


def check_command(command: str, helps: dict[str, str], keys: set[str], targets: set[str]) -> list[str]:
    """What is wrong with one shown command (empty: nothing)."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        tokens = command.split()
    problems = []
    if "make" in tokens and "workbench" not in tokens:
        after = tokens[tokens.index("make") + 1:]
        goals = [t for t in after if not t.startswith("-") and "=" not in t][:1]
        return [f"make target {g!r}" for g in goals if g not in targets]
    start = tokens.index("workbench") + 1 if "workbench" in tokens else tokens.index("dvg-workbench") + 1
    rest = tokens[start:]
    if not rest or rest[0].startswith("-"):
        return [f"flag {t!r}" for t in rest if t.startswith("--")
                and not re.search(rf"\s{re.escape(t.split('=')[0])}\b", helps[""] if "" in helps else "")
                and t not in ("--help",)]
    if rest[0].isupper() or rest[0] == "...":  # a placeholder: `python -m workbench COMMAND`
        return []
    if rest[0] not in helps:
        return [f"command {rest[0]!r}"]
    help_text = helps[rest[0]]
    for i, token in enumerate(rest[1:], 1):
        flag = re.sub(r"[\]\[.,;:)]+$", "", token.split("=")[0])
        if flag.startswith("--") and flag != "--help" and not re.search(
                rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text):
            problems.append(f"flag {flag!r} of {rest[0]}")
        if token == "--set" and i + 1 < len(rest):
            key = rest[i + 1].split("=")[0]
            if key.isupper() or key == "KEY":
                continue
            if key not in keys and not key.startswith("env.kwargs."):
                problems.append(f"--set key {key!r}")
    return problems


@pytest.mark.parametrize("page", [p for p in PAGES if p != COMMANDS_PAGE], ids=_id)
def test_every_command_a_page_shows_exists_with_its_flags_and_keys(page):
    helps, keys, targets = command_help(), config_keys(), make_targets()
    helps[""] = COMMANDS_PAGE.read_text().split("## `")[0]  # `python -m workbench --help`
    problems = {c: p for c in shown_commands(page.read_text())
                if (p := check_command(c, helps, keys, targets))}
    assert not problems, f"{_id(page)}: {problems}"


def test_the_command_check_catches_a_wrong_command_flag_key_and_target():
    helps, keys, targets = command_help(), config_keys(), make_targets()
    ok = "python -m workbench train --algo td3 --set algorithm.lam=0.5 --set steps=100"
    assert check_command(ok, helps, keys, targets) == []
    assert check_command("python -m workbench trian", helps, keys, targets)
    assert check_command("python -m workbench train --algoo td3", helps, keys, targets)
    assert check_command("python -m workbench train --set algorithm.lamm=1", helps, keys, targets)
    assert check_command("make reproduce", helps, keys, targets) == []
    assert check_command("TEST_WORKERS=1 make tests", helps, keys, targets)
    assert len(shown_commands("```bash\n.venv/bin/python -m workbench train \\\n    --seed 1\n```")) == 1
    assert shown_commands("(`... bench --algos td3 --threads 1`)") == [
        "python -m workbench bench --algos td3 --threads 1"]


# --- how-to examples ----------------------------------------------------------------------------

HOWTOS = sorted((DOCS / "howto").glob("*.md"))


@pytest.mark.parametrize("page", HOWTOS, ids=_id)
def test_each_how_to_quotes_its_tested_example_verbatim(page):
    text = page.read_text()
    quoted = re.findall(r"<!-- example: ([\w/.]+) -->\n```python\n(.*?)```", text, flags=re.S)
    assert quoted, f"{_id(page)} quotes no example"
    tests = (ROOT / "tests" / "test_howto_examples.py").read_text()
    for path, code in quoted:
        assert code == (page.parent / path).read_text(), f"{_id(page)}: {path} is not quoted verbatim"
        assert f'load_example("{Path(path).stem}")' in tests, f"no test runs {path}"


def test_every_docs_page_the_code_names_exists():
    """Docstrings, help texts, notebooks and scripts point readers at docs pages: those exist."""
    sources = [p for folder in ("workbench", "dvg_core", "scripts", "notebooks", "tests")
               for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ipynb", ".sh")]
    named = {(p, m) for p in [*sources, ROOT / "Makefile"]
             for m in re.findall(r"docs/[\w/.-]+?\.(?:md|json)\b", p.read_text())}
    assert len(named) > 20
    missing = sorted(f"{_id(p)}: {m}" for p, m in named
                     if not any(base.exists() for base in (ROOT / m, ROOT / f"{m}.d")))
    assert not missing, missing


def notebook_parameters(path: Path) -> set[str]:
    """The names its `parameters` cell assigns."""
    import json

    cells = json.loads(path.read_text())["cells"]
    source = "".join(next(c["source"] for c in cells
                          if "parameters" in c.get("metadata", {}).get("tags", [])))
    return set(re.findall(r"^(\w+) = ", source, flags=re.M))


def test_every_papermill_command_a_page_shows_sets_real_parameters_of_a_real_notebook():
    shown = [line for page in PAGES for line in re.findall(r"papermill (notebooks/\S+\.ipynb .*)",
                                                           page.read_text())]
    assert shown
    for line in shown:
        notebook, *rest = line.split()
        assert (ROOT / notebook).exists(), notebook
        names = {rest[i + 1] for i, token in enumerate(rest) if token == "-p"}
        assert names and names <= notebook_parameters(ROOT / notebook), (line, names)


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_table_row_has_as_many_cells_as_its_header(page):
    """An unescaped `|` inside a cell (even inside backticks) splits it on GitHub."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for table in re.findall(r"(?:^\|.*\|[ \t]*\n)+", text, flags=re.M):
        rows = table.splitlines()
        cells = [len(re.findall(r"(?<!\\)\|", row)) for row in rows]
        assert len(set(cells)) == 1, f"{_id(page)}: {rows[cells.index(max(cells))][:80]}"
