"""docs/reference/ is what `scripts/docs_reference.py` writes from the code now, and its metrics
page covers every metric a training run logs."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "scripts" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_reference_pages_are_what_the_code_gives_now():
    generator = load_generator()
    stale = generator.stale_pages()
    assert not stale, (f"stale reference pages {stale}: run "
                       f".venv/bin/python scripts/docs_reference.py and commit docs/reference/")


def test_the_config_page_lists_every_key_of_config_list():
    generator = load_generator()
    rows, aliases = generator.parse_config_list(generator.run_cli("config", "--list"))
    page = (ROOT / "docs" / "reference" / "config.md").read_text()
    assert len(rows) > 60 and aliases.startswith("aliases: algo=algorithm.name")
    for key, kind, value, doc in rows:
        assert f"| `{key}` | " in page, key
    assert ("algorithm.distance.lam", "float", "1.0") in {row[:3] for row in rows}
    assert "* `algorithm.lam` = `algorithm.distance.lam`" in page  # the flat name still works


def test_every_metric_a_training_run_logs_is_documented():
    """The golden runs (one seeded `toy-quick` run per algorithm) hold every key the training
    loop writes but the timing ones, which the generator documents too."""
    generator = load_generator()
    page = (ROOT / "docs" / "reference" / "metrics.md").read_text()
    logged = set()
    for path in (ROOT / "tests" / "workbench" / "train" / "golden").glob("*.json"):
        for row in json.loads(path.read_text()):
            logged |= set(row) - {"step", "kind"}
    assert {"episode_return", "eval_return_mean", "critic_loss", "actor_loss"} <= logged
    from dvg_core.training.trainer import TIMING_METRICS

    for key in logged | set(TIMING_METRICS) | {"model_loss"}:
        assert key in generator.TRAINING_METRICS, f"{key} has no entry in scripts/docs_reference.py"
        assert re.search(rf"^\| `{key}` \| `\w+` \| `[\w/]+` \| .+ \|$", page, flags=re.M), key


def test_every_fidelity_and_model_metric_of_the_code_has_a_meaning():
    from dvg_core.analysis.fidelity import FIDELITY_METRICS, STATE_GRADIENT_METRIC
    from dvg_core.analysis.model_fidelity import MODEL_METRICS, TARGET_METRICS

    generator = load_generator()
    assert set(generator.FIDELITY_DOCS) == {*FIDELITY_METRICS, STATE_GRADIENT_METRIC}
    assert set(generator.MODEL_DOCS) == {*MODEL_METRICS, *TARGET_METRICS}
    page = (ROOT / "docs" / "reference" / "metrics.md").read_text()
    for name in FIDELITY_METRICS:
        assert f"| `fidelity_{name}` | `fidelity` | `fidelity/{name}` |" in page
    for name in MODEL_METRICS:
        assert f"| `model_{name}` | `fidelity` | `model_fidelity/{name}` |" in page
