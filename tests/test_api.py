"""Python API: check_frame (wide and long), check_lists, lazy exports, JSON = CLI JSON."""

import doctest
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import analyzer
from analyzer import api
from tests import signals as S

OVF_TRAIN = [2.3, 1.4, 1.0, 0.8, 0.7, 0.6, 0.55, 0.5, 0.46, 0.43]
OVF_VAL = [2.2, 1.5, 1.2, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2]


def test_lazy_exports_and_fast_import():
    code = "import sys, analyzer; print('analyzer.engine' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert analyzer.check_frame is api.check_frame
    assert analyzer.Monitor.__name__ == "Monitor"
    assert analyzer.Report.__name__ == "Report"
    with pytest.raises(AttributeError):
        analyzer.no_such_thing  # noqa: B018


def test_check_lists_overfitting():
    rep = analyzer.check_lists(OVF_TRAIN, OVF_VAL)
    assert rep.runs[0].verdict == "problems"
    assert [f.code for f in rep.findings] == ["OVF001"]
    assert rep.runs[0].roles["val_loss"] == "val_loss"
    ovf = rep.findings[0]
    assert ovf.curve == "val_loss" and ovf.end_step == 10  # steps default to epochs 1..10


def test_check_lists_select_ignore_and_options():
    assert analyzer.check_lists(OVF_TRAIN, OVF_VAL, ignore=["OVF"]).findings == []
    assert analyzer.check_lists(OVF_TRAIN, OVF_VAL, select=["PLT"]).findings == []
    with pytest.raises(KeyError, match="unknown rule"):
        analyzer.check_lists(OVF_TRAIN, select=["XYZ9"])
    with pytest.raises(ValueError, match="unknown option"):
        analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options={"OVF001": {"no_such": 1}})


def test_bad_options_raise_one_error_type_naming_the_rule_once(tmp_path):
    from analyzer.errors import OptionsError

    bad = {"DIV002": {"nonsense": 3}}
    calls = [
        lambda: analyzer.check(tmp_path, rule_options=bad),
        lambda: analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options=bad),
        lambda: analyzer.check_frame(pd.DataFrame({"loss": OVF_TRAIN}), rule_options=bad),
    ]
    for call in calls:
        with pytest.raises(OptionsError) as e:
            call()
        msg = str(e.value)
        assert msg.startswith("DIV002: unknown option 'nonsense' (options: ")
        assert msg.count("DIV002") == 1 and "min_ratio" in msg
    assert analyzer.OptionsError is OptionsError and issubclass(OptionsError, ValueError)
    # the value's type is checked against the option's default
    with pytest.raises(OptionsError, match="OVF001: option 'min_rise' must be a number"):
        analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options={"OVF001": {"min_rise": "high"}})
    with pytest.raises(OptionsError, match="must be an integer"):
        opts = {"val-loss-rising": {"min-points-before-divergence": 8.5}}
        analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options=opts)
    with pytest.raises(OptionsError, match="unknown rule 'XYZ9'"):
        analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options={"XYZ9": {}})
    with pytest.raises(OptionsError, match="unknown rule code or prefix 'XYZ9'") as e:
        analyzer.check_lists(OVF_TRAIN, ignore=["XYZ9"])
    assert e.value.field == "ignore"
    # names by code or rule name, hyphens or underscores, ints for float options: accepted
    opts = {"val-loss-rising": {"min-rise": 100}}
    assert analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options=opts).findings == []


def test_check_lists_val_spread_over_iterations():
    p = S.overfitting_pair(seed=1)
    rep = analyzer.check_lists(p.train_values, p.val_values, steps=p.train_steps.astype(int))
    # 40 validation points placed at the end of each 50-iteration chunk
    assert rep.runs[0].summary["val_last_step"] == int(p.train_steps[-1])
    assert "OVF001" in [f.code for f in rep.findings]
    with pytest.raises(ValueError, match="differ in length"):
        analyzer.check_lists([1.0, 2.0], steps=[1])


def test_check_frame_wide_roles_from_column_names():
    n = 12
    df = pd.DataFrame(
        {
            "epoch": np.arange(1, n + 1),
            "loss": OVF_TRAIN + [0.41, 0.4],
            "val_loss": OVF_VAL + [2.4, 2.6],
            "val_accuracy": np.linspace(0.5, 0.7, n),
            "lr": np.full(n, 1e-3),
            "note": ["x"] * n,  # text columns are not curves
        }
    )
    rep = analyzer.check_frame(df, run="mine")
    run = rep.runs[0]
    assert run.run == "mine"
    assert run.roles == {
        "train_loss": "loss",
        "val_loss": "val_loss",
        "train_metric": None,
        "val_metric": "val_accuracy",
        "lr": "lr",
    }
    assert "OVF001" in [f.code for f in run.findings]


def test_check_frame_long_with_runs_and_override():
    rows = []
    for run, val in (("a", OVF_VAL), ("b", [1.0 / (i + 1) for i in range(len(OVF_VAL))])):
        for i, (t, v) in enumerate(zip(OVF_TRAIN, val, strict=True)):
            rows += [(run, "train/loss", i, t), (run, "eval/loss", i, v)]
    df = pd.DataFrame(rows, columns=["run", "tag", "step", "value"])
    rep = analyzer.check_frame(df)
    assert [r.run for r in rep.runs] == ["a", "b"]
    assert rep.runs[0].roles["val_loss"] == "eval/loss"
    assert "OVF001" in [f.code for f in rep.runs[0].findings]
    assert "OVF001" not in [f.code for f in rep.runs[1].findings]
    # the user chooses the roles (same names as --train-loss/--val-loss)
    swapped = analyzer.check_frame(df, train_loss="eval/loss", val_loss="train/loss")
    assert swapped.runs[0].roles["train_loss"] == "eval/loss"


def test_wide_nan_missing_versus_logged():
    # interleaved NaNs (Lightning-style merged frame) are "not logged"; a dense column whose
    # values end in NaN logged NaN (divergence)
    df = pd.DataFrame(
        {
            "step": range(10),
            "loss": [2.0, 1.5, 1.2, 1.0, 0.9, 3.0, 50.0, np.nan, np.nan, np.nan],
            "val_loss": [np.nan, 1.6, np.nan, 1.2, np.nan, 1.1, np.nan, 1.3, np.nan, 1.4],
        }
    )
    long = api.frame_to_long(df)
    loss = long[long.tag == "loss"]
    val = long[long.tag == "val_loss"]
    assert len(loss) == 10 and loss.value.isna().sum() == 3
    assert len(val) == 5 and not val.value.isna().any()
    rep = analyzer.check_frame(df)
    assert "DIV001" in [f.code for f in rep.findings]


def test_bad_frames():
    with pytest.raises(TypeError):
        analyzer.check_frame([1, 2, 3])
    with pytest.raises(ValueError, match="no numeric"):
        analyzer.check_frame(pd.DataFrame({"a": ["x", "y"]}))
    with pytest.raises(ValueError, match="tag, step, value"):
        analyzer.check_frame(pd.DataFrame({"tag": ["a"], "value": [1.0]}))


def test_report_dict_is_cli_json(tmp_path):
    """check_frame on a table gives the JSON of `curvelint check --format json` on its CSV."""
    df = pd.DataFrame({"epoch": range(10), "loss": OVF_TRAIN, "val_loss": OVF_VAL})
    csv = tmp_path / "history.csv"
    df.to_csv(csv, index=False)
    from analyzer.cli import main

    out = tmp_path / "out.json"
    main(["check", str(csv), "--format", "json", "-o", str(out), "--no-config", "--exit-zero"])
    cli = json.loads(out.read_text())
    mine = json.loads(analyzer.check_frame(df).to_json())
    assert set(mine) == set(cli)
    assert set(mine["runs"][0]) == set(cli["runs"][0])
    assert mine["runs"][0]["findings"] == cli["runs"][0]["findings"]
    assert mine["runs"][0]["findings"]  # the example does have a finding
    assert mine["runs"][0]["verdict"] == cli["runs"][0]["verdict"]


def test_docstring_examples():
    res = doctest.testmod(api, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 3 and res.failed == 0


def test_each_rule_callable_on_its_own_with_options():
    from analyzer.curves import Curve, CurveSet
    from rules import overfitting

    curves = CurveSet(
        run="t",
        train=Curve.of(range(1, 11), OVF_TRAIN),
        val=Curve.of(range(1, 11), OVF_VAL, tag="val_loss", role="val_loss"),
    )
    assert [f.code for f in overfitting.check(curves)] == ["OVF001"]
    # options are keyword arguments, with the same names as in the config and rule_options
    assert overfitting.check(curves, min_rise=100.0) == []
    opts = {"OVF001": {"min_rise": 100.0}}
    assert analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options=opts).findings == []
    opts = {"val-loss-rising": {"min-rise": 100.0}}  # config spelling: rule name, dashes
    assert analyzer.check_lists(OVF_TRAIN, OVF_VAL, rule_options=opts).findings == []


def test_a_single_code_may_be_a_plain_string():
    from analyzer.engine import Options

    assert Options.build(select="PLT").select == ["PLT"]
    assert Options.build(ignore="OSC001").ignore == ["OSC001"]


def test_bad_option_of_unchecked_options_names_the_rule_once():
    from analyzer.engine import Options, analyze_curves

    from .helpers import cs

    o = Options(rule_options={"DIV002": {"nonsense": 3}})  # built without Options.build
    with pytest.raises(ValueError) as e:
        analyze_curves(cs(train=(np.arange(10), np.linspace(1, 0.1, 10))), o)
    assert str(e.value).count("DIV002") == 1
