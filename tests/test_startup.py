"""Start-up structure: ``curvelint rules``/``rule`` and ``import rules`` stay light.

scipy (~0.8 s to import) is imported only inside the trend functions that use it, and pandas only
by the readers, so listing or documenting the rules imports neither. Checked in a fresh
interpreter, by looking at ``sys.modules`` (no timing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "pandas", "tensorboard", "jinja2")

SCRIPT = """
import contextlib, io, json, sys
from analyzer.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    for argv in {argvs!r}:
        assert main(argv) == 0, argv
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""


def _imported(argvs: list[list[str]]) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(argvs=argvs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_listing_and_documenting_the_rules_imports_no_scipy_or_pandas():
    mods = _imported([["rules"], ["rules", "--format", "json"], ["rule", "OSC001"]])
    assert "rules" in mods and "numpy" in mods  # the rules were really loaded
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_importing_the_rules_and_trends_imports_no_scipy():
    code = (
        "import json, sys, rules, analyzer.trends, analyzer.engine; rules.all_rules(); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    mods = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert "scipy" not in mods


def test_checking_one_small_run_imports_neither_scipy_stats_nor_ndimage():
    """``check`` on one small run: the Mann-Whitney test is numpy (``trends._rank``) and the
    window medians of small curves are numpy until a process has taken many of them, so the
    ~1 s of importing scipy.stats and scipy.ndimage is not paid for a few runs."""
    run = ROOT / "fixtures" / "training" / "dead-relu-digits-bias-neg-s0"
    code = (
        "import contextlib, io, json, sys\n"
        "from analyzer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['check', {str(run)!r}, '--no-cache', '-j', '1', '--format', 'json'])\n"
        "print(json.dumps([rc, sorted(m for m in sys.modules if m.startswith('scipy'))]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    rc, mods = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rc == 1  # the run was analysed: it has findings (a dead-ReLU plateau)
    assert "scipy.stats" not in mods and "scipy.ndimage" not in mods, mods


BLAS_SCRIPT = """
import contextlib, io, json, os, sys
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.pop(var, None)
os.environ["MKL_NUM_THREADS"] = "3"  # a user's own setting
import analyzer.cli.{command} as cmd
from analyzer.cli import common, main
numpy_loaded = []
def spy():
    numpy_loaded.append("numpy" in sys.modules)
    common.single_threaded_blas()
cmd.single_threaded_blas = spy
with contextlib.redirect_stdout(io.StringIO()):
    main([{command!r}, {run!r}, "--format", "json"{extra}])
print(json.dumps([numpy_loaded, os.environ.get("OPENBLAS_NUM_THREADS"),
                  os.environ.get("MKL_NUM_THREADS"), os.environ.get("OMP_NUM_THREADS")]))
"""


def test_check_and_curves_ask_for_one_blas_thread_before_numpy_loads():
    """A BLAS thread pool spins on curvelint's small matrices (it doubled the CPU time of a
    sweep's check); ``check`` and ``curves`` ask for one thread before anything imports numpy
    (the variables are read once, when numpy loads its BLAS), and keep a user's own setting."""
    run = str(ROOT / "fixtures" / "training" / "dead-relu-digits-bias-neg-s0")
    for command, extra in (("check", ', "--no-cache"'), ("curves", "")):
        code = BLAS_SCRIPT.format(command=command, run=run, extra=extra)
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        )
        loaded, openblas, mkl, omp = json.loads(proc.stdout.strip().splitlines()[-1])
        assert loaded == [False], command  # called once, numpy not yet loaded
        assert (openblas, mkl, omp) == ("1", "3", "1"), command
