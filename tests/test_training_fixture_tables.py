"""The run tables of fixtures/make_training_fixtures.py (fixtures/<set>_runs.toml) load through the
generator's own loader and describe exactly the runs committed under fixtures/<set>/: same names,
formats and causes, and the reviewed labels in labels.json are the ones the review tables give.

Training needs torch and scikit-learn; building the run list does not, so where they are missing
they are replaced by stand-ins while the generator is imported.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "fixtures" / "make_training_fixtures.py"
HEAVY = ("torch", "torch.nn", "sklearn", "sklearn.datasets", "sklearn.model_selection")


@pytest.fixture(scope="module")
def gen() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        for name in HEAVY:
            try:
                importlib.import_module(name)
            except ImportError:
                mp.setitem(sys.modules, name, mock.MagicMock(name=name))
        spec = importlib.util.spec_from_file_location("_make_training_fixtures", GENERATOR)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        mp.setitem(sys.modules, spec.name, module)  # dataclasses look the module up
        spec.loader.exec_module(module)
        yield module


def test_sets_load_in_order(gen: Any) -> None:
    assert list(gen.SETS) == ["training", "holdout", "holdout2"]
    assert gen.SETS["training"] == (gen.RUNS, gen.REVIEW)
    assert [len(gen.SETS[s][0]) for s in gen.SETS] == [79, 52, 55]
    for runs, _ in gen.SETS.values():
        assert all(isinstance(s.hidden, tuple) for s in runs)


def test_names_unique_and_seeds_disjoint(gen: Any) -> None:
    names = [s.name for runs, _ in gen.SETS.values() for s in runs]
    assert len(names) == len(set(names))
    seeds = [{s.seed for s in runs} for runs, _ in gen.SETS.values()]
    for i, a in enumerate(seeds):
        for b in seeds[i + 1 :]:
            assert not a & b


@pytest.mark.parametrize("which", ["training", "holdout", "holdout2"])
def test_tables_match_committed_labels(gen: Any, which: str) -> None:
    runs, review = gen.SETS[which]
    labels = json.loads((ROOT / "fixtures" / which / "labels.json").read_text())
    assert {s.name for s in runs} == set(labels)
    assert set(review) <= set(labels)
    for s in runs:
        lab = labels[s.name]
        assert (lab["format"], lab["cause"], lab["dataset"]) == (s.fmt, s.cause, s.dataset)
        assert lab["reviewed"] == (s.name in review)
    for name, rv in review.items():
        lab = labels[name]
        assert lab["kinds"] == [k for k in gen.KINDS if k in rv["kinds"]], name
        assert lab["uncertain"] == sorted(rv.get("uncertain", []), key=gen.KINDS.index), name
        assert lab["note"] == rv["note"], name
        for k, e in rv.get("onset_epoch", {}).items():
            assert lab["onset_epoch"][k] == e, name
        for k, c in rv.get("curve", {}).items():
            assert lab["curve"][k] == c, name


def test_unknown_key_is_reported_with_its_place(gen: Any, tmp_path: Path) -> None:
    table = tmp_path / "bad_runs.toml"
    table.write_text(
        '[[run]]\ncause = "healthy"\ndataset = "iris"\nvariant = "x"\nseed = 1\nfmt = "tb"\n'
        "hiden = [16]\n"
    )
    with (
        mock.patch.object(gen, "__file__", str(tmp_path / "make_training_fixtures.py")),
        pytest.raises(SystemExit, match=r"bad_runs.toml: run 1: .*hiden"),
    ):
        gen.load_set("bad")
