"""Every remedy snippet of the catalog is code that runs (issue 14): each one, for each framework
it claims, is substituted into a tiny training script of that framework and trained for two
epochs (tests/remedy_harness.py). Those runs are slow (they import the frameworks) and skip when
a framework is not installed; the fast test only compiles every snippet."""

import importlib.util
import textwrap

import pytest

from analyzer.findings import FRAMEWORKS

from . import remedy_harness as H


def _have(*mods: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in mods)


def test_every_catalog_function_is_exercised():
    called = {label.split("(")[0] for label, _ in H.variants()}
    assert H.catalog_functions() <= called, H.catalog_functions() - called


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_snippet_compiles(framework):
    """The fast check (the only one for a framework that is not installed): valid Python, and a
    Lightning method snippet valid inside a class body."""
    cases = H.cases(framework)
    assert cases, f"no {framework} snippet at all"
    for label, r in cases:
        code = r.snippet(framework)
        if framework == "lightning" and code.lstrip().startswith("def "):
            code = "class M:\n" + textwrap.indent(code, "    ")
        compile(code, f"<{label} {framework}>", "exec")


def test_keras_and_pytorch_cover_every_remedy():
    for label, r in H.variants():
        assert r.keras and r.pytorch, f"{label} lacks a Keras or PyTorch snippet"


def _ids(framework):
    return [label for label, _ in H.cases(framework)]


@pytest.mark.slow
@pytest.mark.skipif(not _have("torch"), reason="torch is not installed")
@pytest.mark.parametrize("case", H.cases("pytorch"), ids=_ids("pytorch"))
def test_pytorch_snippet_trains(case, tmp_path):
    _, r = case
    H.run_pytorch(r.pytorch, H.task_of(r), tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not _have("tensorflow", "keras"), reason="tensorflow is not installed")
@pytest.mark.parametrize("case", H.cases("keras"), ids=_ids("keras"))
def test_keras_snippet_trains(case, tmp_path):
    _, r = case
    H.run_keras(r.keras, H.task_of(r), tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not _have("torch", "lightning"), reason="lightning is not installed")
@pytest.mark.parametrize("case", H.cases("lightning"), ids=_ids("lightning"))
def test_lightning_snippet_trains(case, tmp_path):
    _, r = case
    H.run_lightning(r.lightning, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(
    not _have("torch", "transformers", "accelerate"), reason="transformers is not installed"
)
@pytest.mark.parametrize("case", H.cases("hf"), ids=_ids("hf"))
def test_hf_snippet_trains(case, tmp_path):
    _, r = case
    H.run_hf(r.hf, tmp_path)
