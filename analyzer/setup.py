"""How a run was trained, from what its files hold: the framework (Keras, PyTorch, Lightning, the
Hugging Face Trainer), the optimizer, batch size and learning rate its settings declare, and
whether it holds evidence of image inputs. Remedies are written for that framework first.

Pure functions of the run's format, file names, tags and hyper-parameters (already read by the
readers): nothing is opened here. Each conclusion carries its reason, e.g. ``"lightning:
hparams.yaml beside metrics.csv"``; when nothing tells, the framework is None and reports show
their snippets in the usual order (Keras, PyTorch, Lightning, Hugging Face).

What counts (first match wins):

* Hugging Face Trainer: a ``trainer_state.json`` (format ``hf-trainer-state``); settings only
  ``TrainingArguments`` has (``per_device_train_batch_size``, ``gradient_accumulation_steps``,
  ``lr_scheduler_type`` with ``warmup_ratio``/``warmup_steps``, ...: an MLflow or W&B run logged by
  the Trainer's callbacks, a ``training_args.json``); TensorBoard tags ``train/loss`` with
  ``train/learning_rate`` or ``eval/loss`` plus ``train/epoch`` (the Trainer's TensorBoard
  callback).
* Lightning: a Lightning ``metrics.csv`` (format ``lightning-csv``), an ``hparams.yaml`` among the
  run's files, a ``lightning_logs`` folder in its path, MLflow autologging's ``optimizer_name``
  with ``epochs`` (as ``mlflow.pytorch.autolog`` logs for a Lightning Trainer).
* Keras: a ``CSVLogger`` file (format ``keras-csv``), TensorBoard event files written by
  TensorFlow 2 (``*.v2``) or the Keras callback layout (``train/`` + ``validation/`` folders with
  ``epoch_loss``), MLflow/Keras autologging's ``opt_name``; a text log in Keras ``fit`` shape.
* PyTorch: TensorBoard event files written by ``torch.utils.tensorboard``/tensorboardX (no
  ``.v2``, ``add_scalars`` sub-folders such as ``Loss_train/``), an optimizer name of a
  ``torch.optim`` class in the settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from .findings import Setup, torch_optimizer

_OPT_KEYS = (
    "optimizer",
    "optimizer_name",
    "opt_name",
    "optim",
    "opt",
    "optimizer_type",
    "optimizer.name",
    "optimizer_class",
)
_BS_KEYS = (
    "batch_size",
    "per_device_train_batch_size",
    "train_batch_size",
    "batch",
    "bs",
    "batchsize",
)
_LR_KEYS = ("learning_rate", "lr", "opt_learning_rate", "initial_lr", "lr0", "base_lr")
#: TrainingArguments fields no other framework's settings are named after
_HF_ONLY = (
    "per_device_train_batch_size",
    "per_device_eval_batch_size",
    "gradient_accumulation_steps",
    "lr_scheduler_type",
    "load_best_model_at_end",
    "metric_for_best_model",
    "eval_strategy",
    "evaluation_strategy",
    "save_strategy",
)
#: model types of Hugging Face configs that take images
_VISION_MODEL_TYPES = (
    "vit",
    "deit",
    "beit",
    "swin",
    "swinv2",
    "convnext",
    "convnextv2",
    "resnet",
    "regnet",
    "efficientnet",
    "mobilenet_v2",
    "mobilevit",
    "dinov2",
    "clip_vision_model",
    "detr",
    "yolos",
    "segformer",
    "levit",
    "poolformer",
)
#: settings that only an image pipeline has
_IMAGE_KEYS = (
    "image_size",
    "img_size",
    "imgsz",
    "image_height",
    "image_width",
    "num_channels",
    "crop_size",
    "image_mean",
    "patch_size",
)
#: words in a run's path, settings or tags that name image data sets, models or tasks
_IMAGE_WORDS = frozenset(
    [
        "mnist",
        "fashionmnist",
        "cifar",
        "cifar10",
        "cifar100",
        "imagenet",
        "svhn",
        "celeba",
        "coco",
        "voc",
        "stl10",
        "tinyimagenet",
        "image",
        "images",
        "img",
        "imgs",
        "cnn",
        "convnet",
        "resnet",
        "vgg",
        "vit",
        "unet",
        "yolo",
        "yolov5",
        "yolov8",
        "detection",
        "segmentation",
        "mobilenet",
        "efficientnet",
        "densenet",
        "alexnet",
        "lenet",
    ]
)
#: torch.utils.tensorboard and tensorboardX name their files
#: ``events.out.tfevents.<time>.<host>.<pid>.<n>`` (TensorFlow 2 adds ``.v2``, TensorFlow 1
#: writes ``events.out.tfevents.<time>.<host>``)
_TORCH_EVENTS = re.compile(r"events\.out\.tfevents\.\d+\..+\.\d+\.\d+$")
#: sub-folders ``add_scalars`` writes: ``<main tag>_<sub tag>`` (``Loss_train``, ``loss_val``)
_SCALARS_DIR = re.compile(r".+_(train|training|val|valid|validation|test|eval)$", re.IGNORECASE)


def _first(hp: Mapping[str, Any], keys: Iterable[str]) -> tuple[str, Any] | None:
    for k in keys:
        v = hp.get(k)
        if v is not None and v != "":
            return k, v
    return None


def _positive_int(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f >= 1 and f == int(f) else None


def _positive_float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f > 0 else None


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def detect_setup(
    fmt: str,
    files: Iterable[str],
    hparams: Mapping[str, Any],
    tags: Iterable[str] = (),
    run: str = "",
) -> Setup:
    """The :class:`~analyzer.curves.Setup` of a run read in format ``fmt`` from ``files`` (paths
    as reported), with its ``tags`` and ``hparams``; ``run`` is its name (its folders)."""
    files = [str(f) for f in files]
    hp = hparams if isinstance(hparams, Mapping) else {}
    tags = [str(t) for t in tags]
    names = [PurePath(f).name for f in files]
    parts = {p for f in files for p in PurePath(f).parts} | set(PurePath(run).parts)
    tagset = set(tags)
    why: list[str] = []
    framework: str | None = None

    def say(name: str, reason: str) -> None:
        nonlocal framework
        if framework is None:
            framework = name
            why.append(f"{name}: {reason}")

    hf_keys = [k for k in _HF_ONLY if k in hp]
    events = [n for n in names if n.startswith("events.out.tfevents")]
    if fmt == "hf-trainer-state":
        say("hf", "trainer_state.json (Hugging Face Trainer)")
    elif hf_keys:
        say("hf", f"TrainingArguments settings ({', '.join(hf_keys[:3])})")
    elif "train/loss" in tagset and (
        "train/learning_rate" in tagset or ("eval/loss" in tagset and "train/epoch" in tagset)
    ):
        say("hf", "the Trainer's TensorBoard tags (train/loss, train/learning_rate, eval/loss)")
    if fmt == "lightning-csv":
        say("lightning", "metrics.csv of Lightning's CSVLogger")
    elif "hparams.yaml" in names:
        say("lightning", "hparams.yaml among the run's files")
    elif "lightning_logs" in parts:
        say("lightning", "a lightning_logs folder")
    elif "optimizer_name" in hp and "epochs" in hp and fmt == "mlflow":
        say("lightning", "MLflow autologging's optimizer_name and epochs (a Lightning Trainer)")
    if fmt == "keras-csv":
        say("keras", "Keras CSVLogger file")
    elif events and any(n.endswith(".v2") for n in events):
        say("keras", "TensorFlow 2 event files (*.v2)")
    elif (
        events
        and {"train", "validation"} <= parts
        and any(t.split("/")[-1].startswith("epoch_") for t in tags)
    ):
        say("keras", "the Keras TensorBoard callback's train/ and validation/ folders")
    elif "opt_name" in hp:
        say("keras", "MLflow Keras autologging's opt_name")
    if events and framework is None:
        subs = {PurePath(f).parent.name for f in files if PurePath(f).name in events}
        if any(_TORCH_EVENTS.match(n) for n in events):
            say("pytorch", "event files named as torch.utils.tensorboard / tensorboardX name them")
        elif any(_SCALARS_DIR.match(d) for d in subs):
            say("pytorch", "add_scalars sub-folders (torch.utils.tensorboard / tensorboardX)")
        else:
            why.append("event files of TensorFlow 1 or an unknown writer: framework unknown")

    opt_item = _first(hp, _OPT_KEYS)
    optimizer = str(opt_item[1])[:40] if opt_item and isinstance(opt_item[1], str) else None
    if optimizer:
        why.append(f"optimizer {optimizer!r} from the setting {opt_item[0]!r}")  # type: ignore[index]
        if framework is None and torch_optimizer(optimizer) and fmt == "mlflow":
            say("pytorch", f"a torch.optim optimizer name ({optimizer})")
    bs_item = _first(hp, _BS_KEYS)
    batch = _positive_int(bs_item[1]) if bs_item else None
    if batch is not None:
        why.append(f"batch size {batch} from the setting {bs_item[0]!r}")  # type: ignore[index]
    lr_item = _first(hp, _LR_KEYS)
    lr = _positive_float(lr_item[1]) if lr_item else None
    if lr is not None:
        why.append(f"learning rate {lr:g} from the setting {lr_item[0]!r}")  # type: ignore[index]

    images = _image_evidence(fmt, hp, tags, run, files)
    if images:
        why.append(f"image inputs: {images}")
    return Setup(
        framework=framework,
        optimizer=optimizer,
        batch_size=batch,
        lr=lr,
        images=bool(images),
        evidence=tuple(why),
    )


def _image_evidence(
    fmt: str, hp: Mapping[str, Any], tags: list[str], run: str, files: list[str]
) -> str:
    """Why the run is taken to have image inputs ("" when nothing says so)."""
    if fmt == "ultralytics-csv":
        return "Ultralytics results.csv (a detection/segmentation run)"
    keys = [k for k in _IMAGE_KEYS if k in hp]
    if keys:
        return f"the setting {keys[0]!r}"
    model_type = str(hp.get("model_type", "")).lower()
    if model_type in _VISION_MODEL_TYPES:
        return f"model_type {model_type!r} in config.json"
    if any(t.split("/")[-1] in ("box_loss", "seg_loss", "dfl_loss") for t in tags):
        return "detection losses (box_loss)"
    text = " ".join([run, *files, *(str(v) for v in hp.values() if isinstance(v, str))])
    hit = sorted(_words(text) & _IMAGE_WORDS)
    if hit:
        return f"{hit[0]!r} in the run's name or settings"
    return ""
