"""The training and validation curves chosen for every run of ../shared/real-logs.

Expected values were read off each folder's files by hand (column headers, event tags).
"""

from pathlib import Path

import pytest

from analyzer.runs import load

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-logs"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-logs not present")

YOLO = ("train/sum(box_loss+cls_loss+obj_loss)", "val/sum(box_loss+cls_loss+obj_loss)")
ZTM = "ZeroToMax-ZYZ__study_tensorboard/logs/logs_upload/"
EXPECTED = {
    # generator vs discriminator losses: not a training loss to judge
    "0111yoyo__GAN1202/training_log.csv": (None, None),
    # PINN components plus their mean: the mean is the total
    "0729max0729__PINNforEM/lightning_logs/version_0": ("mean_loss", None),
    "0729max0729__PINNforEM/lightning_logs/version_13": ("mean_loss", None),
    "0729max0729__PINNforEM/lightning_logs/version_17": ("mean_loss", None),
    "0729max0729__PINNforEM/lightning_logs/version_19": ("mean_loss", None),
    # TF1 estimator: model_dir/ + model_dir/eval/
    "AlessioQuercia__Regression_Analysis_NN/model_dir": ("loss", "eval/loss"),
    # Ultralytics: box/obj/cls components, no total
    "Grafit-Kil__helmet-detection-yolov5/runs/train/exp": YOLO,
    "Grafit-Kil__helmet-detection-yolov5/runs/train/exp2": YOLO,
    "HCDescamps__cv-image-classification/lightning_logs/mnist_cnn/version_0": (
        "train_loss",
        "val_loss",
    ),
    "HCDescamps__cv-image-classification/lightning_logs/mnist_cnn/version_1": (
        "train_loss",
        "val_loss",
    ),
    "HCDescamps__cv-image-classification/lightning_logs/version_0": ("train_loss", "val_loss"),
    "infinity052__Distracted-Driver-Detection/model_history_log.csv": ("loss", "val_loss"),
    "Kirito-012__Deep-Learning/lightning_logs/version_0": ("train_loss", None),
    # version_3 and version_4 resume version_2 (their steps go on): one run
    "Kirito-012__Deep-Learning/lightning_logs/version_2": ("train_loss", None),
    "Kirito-012__Deep-Learning/lightning_logs/version_6": ("train_loss", None),
    "ManuMollon261297__Speech-Digit-Detector/model_history_log.csv": ("loss", "val_loss"),
    "Nicolassalvan__mti881-projet2/ResultsEtape1/default (learning rate 5e-5)": (
        "loss",
        "eval_loss",
    ),
    "Nicolassalvan__mti881-projet2/ResultsEtape3": ("loss", "eval_loss"),
    "Nicolassalvan__mti881-projet2/ResultsEtape4/FocalLossSansOptuna": ("loss", "eval_loss"),
    "Nicolassalvan__mti881-projet2/ResultsEtape4/NouveauWeightLossSansOptunaHyperparamByDefault": (
        "loss",
        "eval_loss",
    ),
    # Keras TensorBoard callback, train/ only
    "olegkleiman__tf_keras/logs/fit/20191031-020333": ("train/epoch_loss", None),
    ZTM + "01_AlexNet_SGD_20260128-181343": ("train_loss", "val_loss"),
    ZTM + "02_YOLOv1_backbone_SGD_20260128-205924": ("train_loss", "val_loss"),
    ZTM + "03_YOLOv2_backbone_SGD_224_20260211-094651": ("train_loss", "val_loss"),
    ZTM + "03_YOLOv2_backbone_SGD_448_20260212-132843": ("train_loss", "val_loss"),
    ZTM + "04_ResNet18_SGD_20260216-194827": ("train_loss", "val_loss"),
}


@pytest.fixture(scope="module")
def runs():
    return {r.id: r for r in load(REAL).runs}


def test_every_real_run_is_found(runs):
    assert set(runs) == set(EXPECTED)


@pytest.mark.parametrize("run_id", sorted(EXPECTED))
def test_roles(runs, run_id):
    roles = runs[run_id].roles
    assert (roles.train_loss, roles.val_loss) == EXPECTED[run_id]
    assert roles.reasons  # every choice is explained
