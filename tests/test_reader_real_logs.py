"""Text readers on training logs other people published (shared/real-logs, see its SOURCES.tsv).

Each test checks the sniffed format, the tags, the step range and a few values taken from the
file's own lines (quoted in the comments), so a reader that shifts rows, mixes up columns or
mis-parses a separator fails.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from analyzer.readers import COLUMNS, reader_for, sniff_table

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-logs"

if not REAL.is_dir():  # pragma: no cover - the folder is beside the repo on dev machines and CI
    pytest.skip("../shared/real-logs is absent", allow_module_level=True)


def load(rel: str, expect_format: str):
    p = REAL / rel
    fmt, why = sniff_table(p) if p.suffix != ".json" else ("hf-trainer-state", "")
    assert (fmt, why) == (expect_format, "")
    res = reader_for(fmt).read("run", [p], p.parent)
    f = res.frame
    assert list(f.columns) == COLUMNS
    assert f["step"].dtype == np.int64 and f["value"].dtype == np.float64
    assert res.files == [str(p)] and not res.skipped
    return res


def tag(res, name: str):
    f = res.frame[res.frame["tag"] == name]
    return f["step"].to_numpy(), f["value"].to_numpy()


def test_gan1202_generic_csv_epoch_batch():
    res = load("0111yoyo__GAN1202/training_log.csv", "csv")
    assert set(res.frame["tag"]) == {"Gen Loss", "Disc Loss", "epoch"}
    steps, gen = tag(res, "Gen Loss")
    # 20 epochs x 21 batches; Batch restarts each epoch, so the step is the row number
    assert steps.tolist() == list(range(420))
    # "0,0,0.7203195095062256,1.3871750831604004"
    assert gen[0] == pytest.approx(0.7203195095062256)
    # "19,20,1.59...,0.3175..."
    assert tag(res, "Disc Loss")[1][-1] == pytest.approx(0.3175643980503082)
    esteps, epochs = tag(res, "epoch")
    assert esteps.tolist() == [*range(0, 420, 21), 419]
    assert epochs.tolist() == [*range(20), 19]


@pytest.mark.parametrize(
    "version,rows,first_mean_loss",
    [
        (0, 736, 0.49922266602516174),
        (13, 535, 3.7672258953664918e25),
        (17, 951, 13668831985664.0),
        (19, 800, 324286644224.0),
    ],
)
def test_pinnforem_lightning_versions(version, rows, first_mean_loss):
    res = load(
        f"0729max0729__PINNforEM/lightning_logs/version_{version}/metrics.csv", "lightning-csv"
    )
    assert set(res.frame["tag"]) == {
        "Conductor_Copper_loss",
        "Dielectric_Air_loss",
        "initial_phi_port_port1_loss",
        "initial_phi_port_port2_loss",
        "mean_loss",
        "epoch",
    }
    steps, mean = tag(res, "mean_loss")
    assert steps.tolist() == list(range(rows))
    assert mean[0] == pytest.approx(first_mean_loss)
    assert np.isfinite(res.frame["value"]).all()


def test_pinnforem_extreme_magnitudes_kept():
    res = load("0729max0729__PINNforEM/lightning_logs/version_17/metrics.csv", "lightning-csv")
    _, air = tag(res, "Dielectric_Air_loss")
    assert air[0] == pytest.approx(1.3247047094030985e-20)
    assert air.min() > 0


def test_hcdescamps_lightning_sparse_rows_and_test_row():
    res = load(
        "HCDescamps__cv-image-classification/lightning_logs/version_0/metrics.csv", "lightning-csv"
    )
    assert set(res.frame["tag"]) == {"train_loss", "val_loss", "val_accuracy", "test_loss", "epoch"}
    steps, train = tag(res, "train_loss")
    # "0,49,,0.634955883026123,,"
    assert steps[0] == 49 and train[0] == pytest.approx(0.634955883026123)
    assert len(steps) == 171 and steps[-1] == 8549
    vsteps, vacc = tag(res, "val_accuracy")
    # one per epoch, plus validate() after fit at the last step: "5,8595,,,0.996399998664856,0.0142..."
    assert vsteps.tolist() == [1718, 3437, 5156, 6875, 8594, 8595]
    assert vacc[-1] == pytest.approx(0.996399998664856)
    assert tag(res, "test_loss")[0].tolist() == [8595]
    assert any("once per epoch" in n and "val_loss" in n for n in res.notes)


def test_kirito_lightning_epoch_column_not_first():
    res = load("Kirito-012__Deep-Learning/lightning_logs/version_0/metrics.csv", "lightning-csv")
    assert set(res.frame["tag"]) == {"out_0", "out_1", "train_loss", "epoch"}
    steps, loss = tag(res, "train_loss")
    assert steps[0] == 49 and steps[-1] == 3999 and len(steps) == 80
    # "24,0.437...,0.592...,49,0.16592290997505188"
    assert loss[0] == pytest.approx(0.16592290997505188)
    assert tag(res, "epoch")[1][0] == 24


def test_manumollon_keras_semicolon_title_line_crlf():
    res = load("ManuMollon261297__Speech-Digit-Detector/model_history_log.csv", "keras-csv")
    assert set(res.frame["tag"]) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    steps, loss = tag(res, "loss")
    assert steps.tolist() == list(range(17))
    assert loss[0] == pytest.approx(1.576022744178772)
    # last line, no newline
    assert tag(res, "val_loss")[1][-1] == pytest.approx(0.17382508516311646)
    assert any("above the header" in n for n in res.notes)


def test_infinity052_keras_old_acc_crcrlf():
    res = load("infinity052__Distracted-Driver-Detection/model_history_log.csv", "keras-csv")
    assert set(res.frame["tag"]) == {"acc", "loss", "val_acc", "val_loss"}
    steps, vacc = tag(res, "val_acc")
    assert steps.tolist() == list(range(10))
    assert vacc[0] == pytest.approx(0.9334494939967919)


@pytest.mark.parametrize(
    "folder,epochs,extra",
    [
        ("01_AlexNet_SGD_20260128-181343", 100, set()),
        ("02_YOLOv1_backbone_SGD_20260128-205924", 100, set()),
        ("03_YOLOv2_backbone_SGD_224_20260211-094651", 160, {"lr", "epoch_time"}),
        ("03_YOLOv2_backbone_SGD_448_20260212-132843", 10, {"lr", "epoch_time"}),
        ("04_ResNet18_SGD_20260216-194827", 93, {"lr", "epoch_time"}),
    ],
)
def test_zerotomax_generic_metrics_csv_with_config(folder, epochs, extra):
    res = load(f"ZeroToMax-ZYZ__study_tensorboard/logs/logs_upload/{folder}/metrics.csv", "csv")
    base = {"train_loss", "train_top1", "train_top5", "val_loss", "val_top1", "val_top5"}
    assert set(res.frame["tag"]) == base | extra
    steps, _ = tag(res, "val_top1")
    assert steps.tolist() == list(range(1, epochs + 1))  # epochs counted from 1 here
    assert res.hparams["optimizer.type"] == "SGD"  # from config.json beside the file


def test_zerotomax_values():
    res = load(
        "ZeroToMax-ZYZ__study_tensorboard/logs/logs_upload/04_ResNet18_SGD_20260216-194827/metrics.csv",
        "csv",
    )
    steps, lr = tag(res, "lr")
    # "93,...,0.00010000000000000003,119.80882"
    assert steps[-1] == 93 and lr[-1] == pytest.approx(1e-4)


@pytest.mark.parametrize("exp,epochs", [("exp", 3), ("exp2", 150)])
def test_grafit_yolov5_results_csv(exp, epochs):
    res = load(
        f"Grafit-Kil__helmet-detection-yolov5/runs/train/{exp}/results.csv", "ultralytics-csv"
    )
    assert set(res.frame["tag"]) == {
        "train/box_loss",
        "train/obj_loss",
        "train/cls_loss",
        "metrics/precision",
        "metrics/recall",
        "metrics/mAP_0.5",
        "metrics/mAP_0.5:0.95",
        "val/box_loss",
        "val/obj_loss",
        "val/cls_loss",
        "x/lr0",
        "x/lr1",
        "x/lr2",
    }
    steps, _ = tag(res, "metrics/mAP_0.5")
    assert steps.tolist() == list(range(epochs))
    assert res.hparams["hyp.lr0"] == 0.01  # opt.yaml beside the file


def test_grafit_exp2_values():
    res = load("Grafit-Kil__helmet-detection-yolov5/runs/train/exp2/results.csv", "ultralytics-csv")
    # "  1,  0.11844,  0.024477,  0,  0.001358, ..."
    assert tag(res, "train/box_loss")[1][1] == pytest.approx(0.11844)
    assert tag(res, "metrics/precision")[1][1] == pytest.approx(0.001358)
    assert tag(res, "x/lr2")[1][-1] == pytest.approx(0.000232)


@pytest.mark.parametrize(
    "rel,last_step,n_loss",
    [
        ("ResultsEtape1/default (learning rate 5e-5)/trainer_state.json", 14550, 29),
        ("ResultsEtape3/trainer_state.json", 27990, 55),
        ("ResultsEtape4/FocalLossSansOptuna/trainer_state.json", 14000, 28),
        (
            "ResultsEtape4/NouveauWeightLossSansOptunaHyperparamByDefault/trainer_state.json",
            14000,
            28,
        ),
    ],
)
def test_nicolassalvan_trainer_state(rel, last_step, n_loss):
    res = load(f"Nicolassalvan__mti881-projet2/{rel}", "hf-trainer-state")
    tags = set(res.frame["tag"])
    assert {"loss", "grad_norm", "learning_rate", "eval_loss", "eval_overall_f1", "epoch"} <= tags
    assert not tags & {"train_loss", "train_runtime", "total_flos"}
    steps, _ = tag(res, "loss")
    assert len(steps) == n_loss and steps[0] == 500
    esteps, _ = tag(res, "eval_loss")
    assert len(esteps) == 10 and esteps[-1] == last_step
    assert res.hparams["global_step"] == last_step
    assert any("final summary" in n for n in res.notes)


def test_nicolassalvan_values():
    res = load("Nicolassalvan__mti881-projet2/ResultsEtape3/trainer_state.json", "hf-trainer-state")
    steps, loss = tag(res, "loss")
    assert (steps[0], loss[0]) == (500, 0.8146)
    _, lr = tag(res, "learning_rate")
    assert lr[0] == pytest.approx(4.9112182922472315e-05)
    _, ep = tag(res, "epoch")
    assert ep[0] == pytest.approx(0.1786033220217896)
    assert not math.isnan(tag(res, "eval_overall_f1")[1][-1])
