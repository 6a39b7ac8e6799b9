"""`curvelint verify` end to end with real Keras training on scikit-learn's digits.

Slow (a few minutes on 2 cores) and skipped without TensorFlow or scikit-learn; CI runs them with
tensorflow-cpu installed (`pytest -m slow tests/test_verify_tf.py`). The experiments carry their
fault: fixtures/experiments/*.py.
"""

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None
        or importlib.util.find_spec("sklearn") is None,
        reason="needs tensorflow and scikit-learn",
    ),
]

EXP = Path(__file__).resolve().parent.parent / "fixtures" / "experiments"


def _verify(tmp_path, name, **kw):
    from analyzer.verify.runner import Plan, verify

    return verify(Plan(experiment=EXP / name, out=tmp_path / "out", seeds=(0, 1), **kw))


def test_lr_far_too_high_lowering_it_resolves_raising_it_does_not(tmp_path):
    res = _verify(
        tmp_path, "lr_too_high.py", epochs=20, remedies=("lower-lr", "raise-lr"), control=False
    )
    assert res.target.kind in ("oscillation", "divergence")
    assert res.target.remedies[0] == "lower-lr"
    assert res.changes["lower-lr"].hp["learning_rate"] == pytest.approx(0.005)
    lower, higher = res.verdict_for("lower-lr"), res.verdict_for("raise-lr")
    assert lower.verdict == "resolved", lower.reason
    assert lower.remedy_kind_rate == 0 and lower.rel_change < -0.2
    assert not higher.helped, higher.reason  # (c) a remedy that does not help says so
    base = [r for r in res.runs if r.arm == "baseline"]
    assert [r.seed for r in base] == [0, 1] and all(r.epochs_run == 20 for r in base)


def test_overfitting_top_remedy_is_chosen_and_verified(tmp_path):
    res = _verify(tmp_path, "overfit_tiny.py", epochs=30, control=False)
    assert res.target.kind == "overfitting" and res.target.source == "baseline"
    assert res.top == "early-stopping"
    v = res.verdict_for("early-stopping")
    assert v.helped, v.reason
    assert v.remedy_mean < v.baseline_mean
    es = [r for r in res.runs if r.arm == "early-stopping"]
    assert all(r.epochs_run < 30 for r in es)  # it stopped early
    # judged on the half of the validation data EarlyStopping never monitored (issue 16)
    assert res.judged_on.startswith("half of the validation data")


def test_cli_writes_logs_json_and_html(tmp_path, capsys):
    from analyzer.cli import main
    from analyzer.runs import load

    out = tmp_path / "v"
    rc = main(
        [
            "verify",
            str(EXP / "healthy.py"),
            "--remedy",
            "clip-gradients",
            "--epochs",
            "8",
            "--seeds",
            "2",
            "-o",
            str(out),
            "--format",
            "json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert rc in (0, 1)
    assert doc["top_remedy"] == "clip-gradients" and doc["control"]  # a random control ran
    assert doc["changes"]["clip-gradients"]["hp"] == {"clipnorm": 1.0}
    arms = {r["arm"] for r in doc["runs"]}
    assert arms == {"baseline", "clip-gradients", doc["control"]}
    assert json.loads((out / "verify.json").read_text())["verdicts"] == doc["verdicts"]
    page = (out / "verify.html").read_text()
    assert "<svg" in page and "clip-gradients" in page and "Verification" in page
    report = (out / "report.html").read_text()  # the main report with a Verification section
    assert 'id="verification"' in report and "clip-gradients" in report
    logged = load([out / "logs" / "baseline" / "s0"])
    assert len(logged.runs) == 1 and logged.runs[0].val is not None
    assert len(logged.runs[0].val) == 8
    assert doc["relative_time"] > 1


def test_time_budget_cuts_short_and_run_option_diagnoses_existing_logs(tmp_path):
    keras_run = Path(__file__).resolve().parent.parent / "fixtures" / "tensorboard" / "keras"
    res = _verify(
        tmp_path,
        "healthy.py",
        epochs=200,
        max_minutes=0.03,
        run=keras_run,
        remedies=("lower-lr",),
        control=False,
    )
    assert res.target.source.startswith("--run")
    base = [r for r in res.runs if r.arm == "baseline"]
    assert base and not base[0].complete and base[0].epochs_run < 200
    # issue 16: a baseline cut short cannot be judged (it used to read as "inconclusive")
    assert res.failure and "cut short by the time budget" in res.failure
    assert res.verdicts == []
