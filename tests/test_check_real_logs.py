"""Every real log under ../shared/real-logs is analysed end to end without error."""

import json
from pathlib import Path

import pytest

from analyzer.engine import check

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-logs not present")


@pytest.fixture(scope="module")
def report():
    return check(REAL)


def test_all_runs_analysed_without_rule_errors(report):
    assert len(report.runs) >= 15
    for run in report.runs:
        assert run.verdict in ("healthy", "problems", "insufficient-data")
        assert not [f for f in run.findings if f.code == "CLI000"], run.run
    json.loads(report.to_json())  # strict JSON: no NaN leaks


def verdicts(report):
    return {
        r.run: (r.verdict, {f.kind for f in r.findings if f.severity != "info"})
        for r in report.runs
    }


def test_clear_cases_on_real_runs(report):
    v = verdicts(report)
    # Hugging Face fine-tuning whose eval loss climbs steadily after epoch 1
    hf = "Nicolassalvan__mti881-projet2/ResultsEtape1/default (learning rate 5e-5)"
    assert "overfitting" in v[hf][1]
    # a PINN loss stuck at 3.77e25 — enormous but flat: still a plateau
    assert "plateau" in v["0729max0729__PINNforEM/lightning_logs/version_13"][1]
    # smooth, converging ImageNet-style runs are healthy
    for name in (
        "02_YOLOv1_backbone_SGD_20260128-205924",
        "03_YOLOv2_backbone_SGD_224_20260211-094651",
    ):
        key = f"ZeroToMax-ZYZ__study_tensorboard/logs/logs_upload/{name}"
        assert v[key][0] == "healthy", v[key]
    # GAN losses are not a training loss, but their bouncing is the run's oscillation
    # (LABELS.tsv: generator loss swings 1-6.6 batch to batch with no settling)
    assert v["0111yoyo__GAN1202/training_log.csv"] == ("problems", {"oscillation"})
    # a PINN loss that falls 15 decades with periodic x10 swings and keeps swinging x3 at 1e-4
    assert "oscillation" in v["0729max0729__PINNforEM/lightning_logs/version_19"][1]
