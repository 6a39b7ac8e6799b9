"""The TensorBoard reader's table as numpy columns (``lite``, what a check reads) is the same
table as the DataFrame it gives otherwise, and a run read that way shows the same DataFrame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer.discover import discover
from analyzer.readers.base import NumpyTable, column
from analyzer.readers.tensorboard import read
from analyzer.readers.tensorboard.groups import _factorize
from analyzer.runs import read_run

FIX = Path(__file__).resolve().parent.parent / "fixtures"


def _tb_sources():
    out = []
    for folder in ("tensorboard", "layouts", "training", "gen6"):
        disc = discover(FIX / folder)
        out += [(disc.root, s) for s in disc.runs if s.format == "tensorboard"]
    return out[::4]


SOURCES = _tb_sources()


def test_there_are_tensorboard_runs_to_compare():
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("root,src", SOURCES, ids=[s.run for _, s in SOURCES])
def test_lite_table_is_the_dataframe(root, src):
    full = read(src.run, list(src.files), src.base)
    lite = read(src.run, list(src.files), src.base, lite=True)
    assert full.notes == lite.notes and full.hparams == lite.hparams
    table = lite.frame
    frame = table.to_frame() if isinstance(table, NumpyTable) else table
    pd.testing.assert_frame_equal(frame, full.frame)
    for name in ("run", "tag", "step", "value", "wall_time"):
        np.testing.assert_array_equal(column(table, name), full.frame[name].to_numpy())


@pytest.mark.parametrize("root,src", SOURCES[:4], ids=[s.run for _, s in SOURCES[:4]])
def test_a_run_read_for_a_check_shows_the_same_dataframe(root, src):
    run, _ = read_run(src, root, "prefix/")
    assert isinstance(run.__dict__["_data"], NumpyTable)  # read as numpy columns
    curves = run.curve_set()
    frame = run.frame  # made on demand
    assert isinstance(frame, pd.DataFrame)
    assert set(frame["run"]) == {run.id}
    full = read(src.run, list(src.files), src.base).frame.assign(run=run.id)
    pd.testing.assert_frame_equal(frame, full)
    # the curves are the same before and after the DataFrame was made
    again = run.curve_set()
    np.testing.assert_array_equal(curves.train.values, again.train.values)


def test_factorize_is_pandas_factorize():
    rng = np.random.default_rng(3)
    for n, k in [(0, 1), (1, 1), (50, 3), (1000, 40)]:
        values = rng.integers(0, k, n).astype(np.uint64) * np.uint64(2**61 + 7)
        codes, uniq = _factorize(values)
        want_codes, want_uniq = pd.factorize(values)
        np.testing.assert_array_equal(codes, want_codes)
        np.testing.assert_array_equal(uniq, want_uniq)
