"""What ``curvelint check`` imports when the result cache answers (issue 12, start-up).

A run whose files are unchanged is answered from the cache: stat (and, for a file in doubt, a
hash of its ends) of its files, the stored report, the text or JSON rendering. That path must
not import pandas or scipy (most of the start-up time), whatever the formats discovery meets,
so it is checked here by behaviour, not by timing: a ``check`` in a fresh interpreter, then the
modules it left in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
SMALL_RUN = FIX / "training" / "dead-relu-digits-bias-neg-s0"  # benchmarks/startup.py's run

# run `curvelint check ARGS` in this interpreter, then print the modules it imported
PROBE = """
import json, sys
from analyzer.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("\\n" + json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _check(args: list[str], cache: Path) -> tuple[str, int, set[str]]:
    env = dict(os.environ, CURVELINT_CACHE_DIR=str(cache))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "check", *args, "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 0 and lines and lines[-1].startswith("{"), proc.stderr[-2000:]
    probe = json.loads(lines[-1])
    return proc.stdout, probe["exit"], set(probe["modules"])


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of the packages ``names`` were imported."""
    return sorted({m.split(".")[0] for m in modules} & set(names))


@pytest.fixture(scope="module")
def hf_checkpoints(tmp_path_factory) -> Path:
    """A Hugging Face output folder with a checkpoint copy of its trainer state: discovery then
    compares the copies' progress (the real Trainer's files, from the training fixtures)."""
    out = tmp_path_factory.mktemp("hf") / "out"
    state = FIX / "training" / "healthy-wine-sgdm-step-s2" / "trainer_state.json"
    (out / "checkpoint-10").mkdir(parents=True)
    shutil.copy2(state, out / "trainer_state.json")
    shutil.copy2(state, out / "checkpoint-10" / "trainer_state.json")
    return out


def test_cached_check_of_every_format_imports_neither_pandas_nor_scipy(tmp_path, hf_checkpoints):
    # TensorBoard, Keras CSV, HF trainer state (with checkpoint copies), Lightning CSV and event
    # files in version_N folders that discovery joins, Ultralytics, MLflow, W&B, console text
    paths = [
        str(FIX / "training" / "healthy-digits-cnn-s0"),
        str(FIX / "training" / "dead-relu-wine-bias-neg-s1"),
        str(FIX / "training" / "overfit-wine-subset40-s2"),
        str(FIX / "gen2" / "bert-majority3-s20"),
        str(FIX / "gen3" / "cnn-digits-adam-s1"),
        str(FIX / "holdout2" / "healthy-cls-sgd-step-s96"),
        str(FIX / "layouts"),
        str(FIX / "wandb" / "current"),
        str(FIX / "console"),
        str(hf_checkpoints),
    ]
    cache = tmp_path / "cache"
    first, code, modules = _check([*paths, "--format", "json", "-j", "1"], cache)
    assert "pandas" in modules  # the first check reads the runs
    doc = json.loads(first)
    formats = {r["format"] for r in doc["runs"]}
    # (the W&B runs are found, then skipped unless the wandb extra is installed)
    assert {"tensorboard", "hf-trainer-state", "lightning-csv", "mlflow", "text"} <= formats

    again, code2, modules = _check([*paths, "--format", "json"], cache)
    assert again == first and code2 == code
    assert _heavy(modules, ("pandas", "scipy")) == []
    assert "analyzer.readers.base" not in modules  # no run was read: the cache answered

    text, _, modules = _check(paths, cache)  # the text report, from the same cache rows
    assert f"{len(doc['runs'])} run" in text
    assert _heavy(modules, ("pandas", "scipy")) == []


def test_cached_check_of_one_run_imports_no_analysis(tmp_path):
    """The start-up row of issue 12 (``benchmarks/startup.py``): one small run answered from the
    cache imports no numeric library and no rule (the rules' codes come from
    :mod:`analyzer.rule_index`)."""
    cache = tmp_path / "cache"
    first, _, _ = _check([str(SMALL_RUN), "--format", "json", "-j", "1"], cache)
    for fmt in ("json", "text"):
        out, _, modules = _check([str(SMALL_RUN), "--format", fmt], cache)
        if fmt == "json":
            assert out == first
        assert _heavy(modules, ("pandas", "scipy", "numpy")) == []
        assert [m for m in modules if m.startswith(("rules.", "analyzer.trends"))] == []


def test_no_cache_check_still_reads_and_analyses(tmp_path):
    """The probe sees imports: without the cache the same run is read and analysed."""
    _, _, modules = _check([str(SMALL_RUN), "--format", "json", "--no-cache", "-j", "1"], tmp_path)
    assert "analyzer.readers.tensorboard.reader" in modules and "rules.plateau" in modules


def test_library_versions_for_the_cache_key_without_importing():
    """The cache key's library versions are read from the installed distributions, not from the
    imported modules, and agree with them."""
    import numpy
    import pandas
    import scipy

    from analyzer.cache import library_version

    assert [library_version(n) for n in ("numpy", "pandas", "scipy")] == [
        numpy.__version__,
        pandas.__version__,
        scipy.__version__,
    ]
    assert library_version("curvelint_no_such_package") == "missing"


def test_rules_list_imports_no_rule(tmp_path):
    """``curvelint rules`` (the start-up row's other command) lists the rules from their source:
    no rule, no trends, no numeric library imported."""
    env = dict(os.environ, CURVELINT_CACHE_DIR=str(tmp_path))
    probe = PROBE.replace("main(sys.argv[1:])", 'main(["rules"])')
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env
    )
    modules = set(json.loads(proc.stderr.strip().splitlines()[-1])["modules"])
    assert len(proc.stdout.splitlines()) >= 8
    assert _heavy(modules, ("pandas", "scipy", "numpy")) == []
    assert [m for m in modules if m.startswith(("rules.", "analyzer.trends"))] == []


def test_a_first_check_of_a_tensorboard_run_imports_no_pandas(tmp_path):
    # no cache: the run is read and analysed; the TensorBoard reader hands its table over as
    # numpy columns (readers.base.NumpyTable), so neither pandas nor scipy is imported
    out, code, modules = _check([str(SMALL_RUN), "--no-cache", "--format", "json"], tmp_path)
    assert code == 1 and json.loads(out)["runs"][0]["verdict"] == "problems"
    assert _heavy(modules, ("pandas", "scipy")) == []
