"""Remedies a user can act on (issue 14): written for the run's framework (detected from what the
run holds), one deduplicated list per run, titles that agree with their code, no image
augmentation without images, no "raise the learning rate" for a loss at an absurd level, no
"train longer" when the validation loss has stopped improving while the gap widens."""

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analyzer.engine import analyze_curves, check
from analyzer.findings import Setup
from analyzer.report.html import render_html
from analyzer.report.text import render_text
from analyzer.runs import load
from analyzer.setup import detect_setup
from rules import _remedies as R

from .helpers import cs
from .test_report_html import page_data

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures"
REAL = ROOT.parent / "shared" / "real-logs"


def _setups(path) -> dict[str, Setup]:
    return {r.run: r.setup for r in check(path).runs}


# ------------------------------------------------------------------ the framework of a run


def test_framework_from_files_the_real_writers_made():
    # Keras 3's TensorBoard callback (train/ + validation/, TF2 *.v2 files)
    assert _setups(FIX / "tensorboard" / "keras")["keras"].framework == "keras"
    # torch.utils.tensorboard.SummaryWriter with add_scalars sub-folders
    assert _setups(FIX / "tensorboard" / "pytorch")["pytorch"].framework == "pytorch"
    # a TF1 estimator's model_dir: nothing says which framework, none is guessed
    assert _setups(FIX / "tensorboard" / "tf1_estimator")["tf1_estimator"].framework is None
    # one real Lightning Trainer's CSVLogger and TensorBoardLogger folders
    got = _setups(FIX / "layouts" / "lightning")
    assert got and {s.framework for s in got.values()} == {"lightning"}
    assert all(s.lr == 0.02 for s in got.values())  # hparams.yaml's lr
    # Keras CSVLogger files, Hugging Face trainer_state.json
    (csv_logger,) = _setups(FIX / "training" / "overfit-cancer-subset60-s1").values()
    assert csv_logger.framework == "keras"
    (hf,) = _setups(FIX / "training" / "overfit-wine-subset40-s2").values()
    assert hf.framework == "hf"


def test_pytorch_event_file_names(tmp_path):
    """The event file writer torch.utils.tensorboard uses names its files
    events.out.tfevents.<time>.<host>.<pid>.<n>: that is PyTorch (TF2 adds .v2, TF1 stops at the
    host)."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path / "run"))
    for step in range(12):
        s = Summary(value=[Summary.Value(tag="Loss/train", simple_value=1.0 / (step + 1))])
        w.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=s))
    w.close()
    (name,) = [p.name for p in (tmp_path / "run").iterdir()]
    assert re.match(r"events\.out\.tfevents\.\d+\..+\.\d+\.\d+$", name)
    (setup,) = _setups(tmp_path).values()
    assert setup.framework == "pytorch"


def test_settings_give_framework_optimizer_batch_and_lr():
    # the Hugging Face Trainer's MLflow callback logs TrainingArguments as params
    hf = detect_setup(
        "mlflow",
        ["mlruns/0/abc/metrics/loss"],
        {"per_device_train_batch_size": 16, "learning_rate": 5e-5, "optim": "adamw_torch"},
    )
    assert (hf.framework, hf.optimizer, hf.batch_size, hf.lr) == ("hf", "adamw_torch", 16, 5e-5)
    assert hf.torch_class == "AdamW" and hf.order()[0] == "hf"
    # mlflow.keras autologging's parameter names
    k = detect_setup("mlflow", [], {"opt_name": "SGD", "batch_size": 32, "opt_learning_rate": 0.1})
    assert (k.framework, k.optimizer, k.lr) == ("keras", "SGD", 0.1)
    # the Trainer's TensorBoard callback tags
    tags = ["train/loss", "train/learning_rate", "eval/loss", "train/epoch"]
    assert detect_setup("tensorboard", ["r/events.out.tfevents.1.h"], {}, tags).framework == "hf"
    # nothing known: no framework, no numbers, the usual order
    none = detect_setup("csv", ["r/log.csv"], {"lr": "nan", "batch_size": 0})
    assert none == Setup(evidence=none.evidence) and none.order()[0] == "keras"


def test_image_evidence():
    assert detect_setup("csv", ["a/log.csv"], {"imgsz": 640}).images
    assert detect_setup("hf-trainer-state", [], {"model_type": "vit"}).images
    assert detect_setup("csv", ["cifar10-resnet/log.csv"], {}).images
    assert not detect_setup("csv", ["wine-mlp/log.csv"], {"hidden": 64}).images
    assert not detect_setup("keras-csv", ["overfit-diabetes-subset60-s5/history.csv"], {}).images


def test_json_carries_the_setup():
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "check", str(FIX / "layouts" / "lightning"), "--format",
         "json", "--no-cache", "--exit-zero"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert doc["version"] == 2
    for run in doc["runs"]:
        s = run["setup"]
        assert s["framework"] == "lightning" and s["lr"] == 0.02 and s["evidence"]


# ------------------------------------------------------------------ snippets for that framework


def _verbose(path) -> str:
    return render_text(check(path), verbose=True)


def _first_snippet_labels(text: str) -> list[str]:
    return re.findall(r"^ {7}(Keras|PyTorch|Lightning|Hugging Face Trainer):$", text, re.M)


def test_verbose_text_gives_the_runs_framework_first():
    lightning = _verbose(FIX / "training" / "diverge-wine-warmup-sgdm-s4")
    labels = _first_snippet_labels(lightning)
    assert labels and "Keras" not in labels and labels[0] == "Lightning"
    assert "model.optimizer" not in lightning and "keras." not in lightning
    assert "gradient_clip_val=1" in lightning and "self.trainer.optimizers[0]" in lightning

    hf = _verbose(FIX / "training" / "overfit-wine-subset40-s2")
    labels = _first_snippet_labels(hf)
    assert labels and "Keras" not in labels and labels[0] == "Hugging Face Trainer"
    assert "load_best_model_at_end=True" in hf and "EarlyStoppingCallback(" in hf

    pytorch = _verbose(FIX / "tensorboard" / "pytorch")
    labels = _first_snippet_labels(pytorch)
    assert labels and set(labels) == {"PyTorch"}

    keras = _verbose(FIX / "training" / "overfit-cancer-subset60-s1")
    assert set(_first_snippet_labels(keras)) == {"Keras"}


def test_unknown_framework_shows_keras_and_pytorch():
    text = _verbose(FIX / "tensorboard" / "tf1_estimator")
    assert "framework unknown" in text
    labels = _first_snippet_labels(text)
    assert labels[:2] == ["Keras", "PyTorch"]


# ------------------------------------------------------------------ one list per run


def test_one_deduplicated_remedy_list_per_run():
    path = FIX / "training" / "diverge-wine-warmup-sgdm-s4"  # DIV002 + DIV001 twice
    report = check(path)
    (run,) = report.runs
    assert len(run.findings) >= 3
    per_finding = [r.id for f in run.findings for r in f.remedies]
    assert len(per_finding) > len(set(per_finding))  # the findings share remedies
    ids = [e.remedy.id for e in run.remedies]
    assert len(ids) == len(set(ids)) == len(set(per_finding))
    # ordered by the findings they address (worst first), each saying which
    first_seen = list(dict.fromkeys(per_finding))
    assert ids == first_seen
    for e in run.remedies:
        assert e.findings == tuple(
            i for i, f in enumerate(run.findings) if e.remedy.id in {r.id for r in f.remedies}
        )
    # JSON: the run's list in full, the findings name theirs by id
    doc = json.loads(report.to_json())["runs"][0]
    assert [r["id"] for r in doc["remedies"]] == ids
    assert all(isinstance(x, str) for f in doc["findings"] for x in f["remedies"])
    # text -v: each remedy block once
    text = render_text(report, verbose=True)
    for e in run.remedies:
        assert text.count(e.remedy.title) == 1, e.remedy.title
    # non-verbose: a remedy another finding already showed is not shown again
    plain = render_text(report)
    fixes = re.findall(r"fix: (.*) — ", plain)
    assert fixes and len(fixes) == len(set(fixes))
    # HTML: one list for the run; cards refer to it by number
    res = load(path)
    head, runs = page_data(render_html(report, res))
    rem = runs[0]["rem"]
    assert [head["rem"][k][0] for k, _ in rem] == ids
    for n, card in enumerate(runs[0]["cards"], 1):
        for k in card.get("r", []):
            assert n in rem[k - 1][1]


# ------------------------------------------------------------------ what the remedies say


def test_titles_agree_with_their_code():
    r = R.regularize()
    wd, dropout = (
        re.search(r"weight decay ~(\S+)", r.title)[1],
        re.search(r"dropout ~(\S+?),", r.title)[1],
    )
    for fw in ("keras", "pytorch", "lightning", "hf"):
        assert wd in r.snippet(fw), (fw, wd)
    for fw in ("keras", "pytorch", "lightning", "hf"):
        assert dropout in r.snippet(fw), (fw, dropout)
    assert "1e-2" not in r.keras + r.pytorch and "0.01" not in r.keras + r.pytorch
    lr = R.lower_lr(0.05)
    assert "0.005" in lr.title and all(
        "0.005" in lr.snippet(fw) for fw in ("keras", "pytorch", "lightning", "hf")
    )
    bb = R.bigger_batch(setup=Setup(batch_size=16))
    assert "16 → 64" in bb.title and all(
        "64" in bb.snippet(fw) for fw in ("keras", "pytorch", "lightning", "hf")
    )


def _overfit_curves():
    e = np.arange(60)
    tr = 2.0 * np.exp(-e / 8) + 0.05
    va = np.r_[2.0 * np.exp(-e[:20] / 8) + 0.3, 2.0 * np.exp(-19 / 8) + 0.3 + 0.03 * (e[20:] - 19)]
    return cs(train=(e, tr), val=(e, va))


def test_image_augmentation_only_for_runs_with_images():
    curves = _overfit_curves()
    _, tabular = analyze_curves(curves)
    (aug,) = [r for f in tabular for r in f.remedies if r.id == "augment-data"]
    text = aug.title + aug.keras + aug.pytorch
    assert not re.search(r"Flip|Crop|Rotation|flip\(", text)
    assert "noise" in aug.title.lower()
    _, images = analyze_curves(replace(curves, setup=Setup(images=True)))
    (aug,) = [r for f in images for r in f.remedies if r.id == "augment-data"]
    assert "RandomFlip" in aug.keras and "flip" in aug.pytorch
    # a real tabular run (wine, Hugging Face Trainer state) that overfits
    (run,) = check(FIX / "training" / "overfit-wine-subset40-s2").runs
    for e in run.remedies:
        assert "RandomFlip" not in e.remedy.keras and "RandomCrop" not in e.remedy.pytorch


def test_no_raise_lr_for_a_loss_at_an_absurd_level():
    e = np.arange(80)
    rng = np.random.default_rng(1)
    loss = 3.8e25 * (1 - 1e-4 * e / 80) * (1 + 1e-5 * rng.normal(size=80))
    _, findings = analyze_curves(cs(train=(e, loss)))
    plateau = [f for f in findings if f.code == "PLT001"]
    assert plateau
    ids = [r.id for f in plateau for r in f.remedies]
    assert "raise-lr" not in ids and ids[0] in ("loss-scale", "check-pipeline")
    (scale,) = [r for f in plateau for r in f.remedies if r.id == "loss-scale"]
    assert "3.8e+25" in scale.title
    # an ordinary stuck loss still gets "raise the learning rate"
    _, findings = analyze_curves(cs(train=(e, loss / 1e25)))
    assert "raise-lr" in [r.id for f in findings if f.code == "PLT001" for r in f.remedies]


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real logs are not here")
def test_real_pinn_run_stuck_at_3_8e25():
    (run,) = check(REAL / "0729max0729__PINNforEM" / "lightning_logs" / "version_13").runs
    ids = [e.remedy.id for e in run.remedies]
    assert "raise-lr" not in ids and ids[0] == "loss-scale"


def test_no_train_longer_when_val_is_flat_and_the_gap_widens():
    rng = np.random.default_rng(0)
    e = np.arange(100)
    tr = 2.0 * np.exp(-e / 60) + 0.01 * rng.normal(size=100)
    flat = 2.0 * np.exp(-39 / 60) + 0.1
    va = np.r_[2.0 * np.exp(-e[:40] / 60) + 0.1, np.full(60, flat)] + 0.01 * rng.normal(size=100)
    _, findings = analyze_curves(cs(train=(e, tr), val=(e, va)))
    (f,) = [f for f in findings if f.code == "PLT002"]
    ids = [r.id for r in f.remedies]
    assert "train-longer" not in ids and ids[0] == "no-longer"
    assert "train longer" not in f.message and "validation loss has not improved" in f.message
    # the same training loss with a validation loss that keeps falling: train longer
    va2 = 2.0 * np.exp(-e / 60) + 0.1 + 0.01 * rng.normal(size=100)
    _, findings = analyze_curves(cs(train=(e, tr), val=(e, va2)))
    (f,) = [f for f in findings if f.code == "PLT002"]
    assert [r.id for r in f.remedies] == ["train-longer"] and f.message.endswith("train longer")


def test_early_stopping_watches_the_metric_of_a_run_without_validation_loss():
    e = np.arange(60)
    tr = 2.0 * np.exp(-e / 8) + 0.05
    acc = np.r_[
        0.5 + 0.4 * (1 - np.exp(-e[:20] / 5)),
        0.5 + 0.4 * (1 - np.exp(-19 / 5)) - 0.006 * (e[20:] - 19),
    ]
    _, findings = analyze_curves(cs(train=(e, tr), val_metric=(e, acc)))
    (f,) = [f for f in findings if f.code == "OVF001"]
    (r,) = [r for r in f.remedies if r.id == "early-stopping"]
    assert "best val_accuracy 0.891" in r.title and "validation loss" not in r.title
    assert "monitor='val_accuracy', mode='max'" in r.keras and "val_loss" not in r.keras
    assert "metric_for_best_model='accuracy', greater_is_better=True" in r.hf
    assert "evaluate_metric(" in r.pytorch and "score > best" in r.pytorch


def test_curves_shows_the_setup(capsys):
    from analyzer.cli import main

    path = str(FIX / "layouts" / "lightning" / "csv_logs")
    assert main(["curves", path]) == 0
    assert "setup: Lightning, lr 0.02" in capsys.readouterr().out
    assert main(["curves", path, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["setup"]["framework"] for r in doc["runs"]} == {"lightning"}
