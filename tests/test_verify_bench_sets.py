"""The fault-experiment sets of benchmarks/verify.py, checked without TensorFlow: every
experiment file states its fault and what its usual remedy should do, --set all runs both sets
in order and names each row's set, and each set keeps at least one experiment where the usual
remedy is wrong. (Training them is the benchmark's job, not the default suite's.)"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTS = {"helps", "does not help"}


def _bench():
    spec = importlib.util.spec_from_file_location("verify_bench", ROOT / "benchmarks" / "verify.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["bench", "bench2"])
def test_each_experiment_states_fault_and_expectation(name):
    bench = _bench()
    rows = bench.experiments(name)
    files = sorted(p for p in bench.SETS[name].glob("*.py") if not p.name.startswith("_"))
    assert [p for _, p, _, _ in rows] == files
    assert {s for s, *_ in rows} == {name}
    for _, path, fault, expect in rows:
        consts = bench._constants(path)
        assert consts.get("FAULT") == fault and fault.strip(), path.name
        assert expect in EXPECTS, path.name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        funcs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert "experiment" in funcs, path.name
        assert ast.get_docstring(tree), path.name  # the fault, and any dose change, said there
    assert any(e == "does not help" for *_, e in rows), name


def test_bench2_is_independent_of_bench():
    bench = _bench()
    assert len(bench.experiments("bench2")) == 8
    for _, path, _, _ in bench.experiments("bench2"):
        text = path.read_text(encoding="utf-8")
        assert "bench/" not in text and "../bench" not in text, path.name
    names1 = {p.name for _, p, _, _ in bench.experiments("bench")}
    names2 = {p.name for _, p, _, _ in bench.experiments("bench2")}
    assert not names1 & names2


def test_set_all_is_bench_then_bench2():
    bench = _bench()
    rows = bench.experiments("all")
    assert rows == bench.experiments("bench") + bench.experiments("bench2")
    assert [s for s, *_ in rows] == ["bench"] * 12 + ["bench2"] * 8
