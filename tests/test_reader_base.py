"""analyzer.readers.base: the canonical table's fast paths give what pandas gives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyzer.readers import base
from analyzer.readers.sniff import find_layout


def _frames():
    rng = np.random.default_rng(5)
    for trial in range(120):
        n = int(rng.integers(1, 60))
        tags = rng.choice(["loss", "val_loss", "Loss/train", "acc", "lr"], size=n)
        # every third: duplicates and steps going back (restarts); else rising steps
        steps = rng.integers(0, 30, size=n) if trial % 3 == 0 else np.arange(n) // 2
        yield base.make_frame("r", list(tags), steps, rng.normal(size=n), rng.normal(size=n))


def test_apply_restarts_fast_path_equals_the_pandas_path():
    seen_fast = seen_restart = 0
    for frame in _frames():
        got, notes = base.apply_restarts(frame, "r")
        keep = np.ones(len(frame), dtype=bool)
        ref, ref_notes = base._apply_restarts_pandas(frame, keep, frame["step"].to_numpy(), [])
        pd.testing.assert_frame_equal(got, ref)
        assert notes == ref_notes
        seen_restart += bool(notes)
        seen_fast += not notes
    assert seen_fast and seen_restart  # both paths were exercised


def test_apply_restarts_with_a_missing_tag_sorts_it_last_like_pandas():
    frame = base.make_frame("r", ["b", None, "a", "b"], [1, 1, 0, 2], [1.0, 2.0, 3.0, 4.0])
    got, _ = base.apply_restarts(frame, "r")
    assert list(got["tag"].iloc[:3]) == ["a", "b", "b"] and got["tag"].iloc[3] is None


def test_empty_frames_are_independent_copies():
    a = base.empty_frame()
    a.loc[0] = ["r", "loss", 1, 0.5, 0.0]
    assert base.empty_frame().empty
    assert list(base.empty_frame().dtypes.astype(str)) == [
        "object",
        "object",
        "int64",
        "float64",
        "float64",
    ]


def test_find_layout_with_a_title_line_and_a_repeated_header():
    lines = ["Training log of run 7", "epoch,loss,val_loss", "0,1.0,1.2", "1,0.8,1.0"]
    lines += ["epoch,loss,val_loss"] + [f"{i},{1 / (i + 1)},{1.1 / (i + 1)}" for i in range(2, 30)]
    lay = find_layout(lines)
    # the repeated header explains 20 following rows, the first one 19 (it counts the repeat
    # as a bad row): the later one wins, as before the kinds of the cells were cached
    assert lay is not None and lay.sep == "," and lay.header_index == 4
    assert lay.header == ["epoch", "loss", "val_loss"] and lay.good_rows == 20
