"""Run a remedy snippet of the catalog (``rules/_remedies.py``) inside a tiny training script of
its framework, as a user would paste it: the script defines the names the catalog's docstring
promises (``model``, ``optimizer``, ``x_train``, ``args`` ...), runs the snippet where it goes
(a training call, a training loop, the model, a ``LightningModule`` method, the
``TrainingArguments``), then trains for a couple of epochs on random data. A snippet that raises,
or leaves the script unable to train, fails.

Every variant of every remedy is listed by :func:`variants` (known and unknown learning rates,
an optimizer named or not, images or not, a validation loss or not), so a snippet cannot drift
from the names and APIs it uses."""

from __future__ import annotations

import inspect
import os
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analyzer.findings import FRAMEWORKS, Remedy, Setup
from rules import _remedies as R

N_CLASSES = 3
N_FEATURES = 4
EPOCHS = 2


def variants() -> list[tuple[str, Remedy]]:
    """(label, remedy) for every function of the catalog, with the arguments that change its
    snippets."""
    sgd = Setup(framework="lightning", optimizer="sgd", lr=0.05, batch_size=16)
    out: list[tuple[str, Remedy]] = []
    for lr in (None, 0.05):
        out += [
            (f"lower_lr(lr={lr})", R.lower_lr(lr)),
            (f"raise_lr(lr={lr})", R.raise_lr(lr)),
            (f"warmup(lr={lr})", R.warmup(lr)),
            (f"switch_optimizer(lr={lr})", R.switch_optimizer(lr)),
        ]
    # a run with a validation loss (Keras: val_loss), and one without, whose training loss is
    # logged as train_loss (the tag Lightning's callbacks then monitor)
    for monitor, tag in (("val_loss", "val_loss"), ("loss", "train_loss")):
        out += [
            (f"lr_schedule({monitor})", R.lr_schedule(None, None, monitor, tag=tag)),
            (f"restore_best({monitor})", R.restore_best(12, monitor, tag)),
            (f"early_stopping({monitor})", R.early_stopping(12, 0.4, 3, monitor=monitor, tag=tag)),
        ]
    out += [
        ("lr_schedule(sgd known)", R.lr_schedule(None, 3, "val_loss", setup=sgd, tag="val_loss")),
        ("lower_lr(setup lr)", R.lower_lr(None, setup=sgd)),
        ("clip_gradients", R.clip_gradients()),
        ("check_numerics", R.check_numerics()),
        (
            "early_stopping(metric)",
            R.early_stopping(9, 0.8, 3, tag="val_accuracy", metric_direction="max"),
        ),
        ("checkpoint_on_metric(max)", R.checkpoint_on_metric("val_accuracy", "max")),
        ("checkpoint_on_metric(min)", R.checkpoint_on_metric("val_loss", "min")),
        ("regularize", R.regularize()),
        ("augment(images)", R.augment(True)),
        ("augment(tabular)", R.augment(False)),
        ("smaller_model", R.smaller_model()),
        ("more_capacity", R.more_capacity()),
        ("normalize_inputs", R.normalize_inputs()),
        ("fix_activations", R.fix_activations()),
        ("bigger_batch(unknown)", R.bigger_batch()),
        ("bigger_batch(16)", R.bigger_batch(setup=sgd)),
        ("class_weights", R.class_weights()),
        ("check_labels", R.check_labels()),
        ("train_longer(steps)", R.train_longer(400)),
        ("train_longer(epochs)", R.train_longer(None, epochs=2)),
        ("stop_not_longer", R.stop_not_longer(200)),
        ("loss_scale", R.loss_scale(3.8e25)),
    ]
    return out


def catalog_functions() -> set[str]:
    """The public remedy builders of the catalog (each must appear in :func:`variants`)."""
    return {
        name
        for name, fn in vars(R).items()
        if not name.startswith("_")
        and inspect.isfunction(fn)
        and fn.__module__ == R.__name__
        and inspect.signature(fn).return_annotation in (Remedy, "Remedy")
    }


def cases(framework: str) -> list[tuple[str, Remedy]]:
    assert framework in FRAMEWORKS
    return [(label, r) for label, r in variants() if r.snippet(framework)]


def task_of(remedy: Remedy) -> str:
    """The tiny task a snippet runs on: a regression for the loss-scale remedy (it standardises
    the targets), image classification for image augmentation, else tabular classification."""
    if remedy.id == "loss-scale":
        return "regression"
    if remedy.id == "augment-data" and "flip" in remedy.title.lower():
        return "images"
    return "classification"


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    """Run with ``folder`` as the working directory (snippets save 'best.pt', 'best.keras')."""
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


# --------------------------------------------------------------------------------- PyTorch


def run_pytorch(snippet: str, task: str, folder: Path) -> None:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    if task == "images":
        x_all = torch.randn(48, 3, 8, 8)
        in_features = 3 * 8 * 8
    else:
        x_all = torch.randn(48, N_FEATURES)
        in_features = N_FEATURES
    if task == "regression":
        y_all = 1e6 * torch.randn(48, 1)
        n_outputs, loss_fn = 1, nn.MSELoss(reduction="sum")
    else:
        y_all = torch.randint(0, N_CLASSES, (48,))
        n_outputs, loss_fn = N_CLASSES, nn.CrossEntropyLoss()
    dataset = TensorDataset(x_all[:32], y_all[:32])
    val_set = TensorDataset(x_all[32:], y_all[32:])
    units = 8
    head = [nn.Flatten()] if task == "images" else []
    model = nn.Sequential(
        *head, nn.Linear(in_features, units), nn.ReLU(), nn.Linear(units, n_outputs)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_one_epoch(model, loader, optimizer, step_hook=None):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = ns["loss_fn"](model(xb), yb)
            loss.backward()
            if step_hook is not None:
                step_hook()
            optimizer.step()
            total += float(loss.detach())
        return total / max(1, len(loader))

    def evaluate(model, loader):
        model.eval()
        with torch.no_grad():
            return sum(float(ns["loss_fn"](model(xb), yb)) for xb, yb in loader) / len(loader)

    def evaluate_metric(model, loader):
        model.eval()
        with torch.no_grad():
            hits = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in loader)
        return hits / len(loader.dataset)

    ns: dict = {
        "torch": torch,
        "nn": nn,
        "DataLoader": DataLoader,
        "model": model,
        "optimizer": optimizer,
        "loss_fn": loss_fn,
        "dataset": dataset,
        "train_loader": DataLoader(dataset, batch_size=8, shuffle=True),
        "val_loader": DataLoader(val_set, batch_size=8),
        "x": x_all[:8].clone(),
        "y": y_all[:8].clone(),
        "x_train": x_all[:32].clone(),
        "in_features": in_features,
        "n_outputs": n_outputs,
        "units": units,
        "epochs": EPOCHS,
        "batch_size": 8,
        "train_one_epoch": train_one_epoch,
        "evaluate": evaluate,
        "evaluate_metric": evaluate_metric,
    }
    code = compile(snippet, "<remedy>", "exec")
    with inside(folder):
        try:
            if "clip_grad_norm_" in snippet:  # runs after loss.backward(), before the step
                for _ in range(EPOCHS):
                    train_one_epoch(model, ns["train_loader"], optimizer, lambda: exec(code, ns))
                return
            exec(code, ns)
            if "for epoch in" in snippet:  # the snippet is the training loop
                return
            if ns["model"] is not model:  # a new model: a new optimizer for its parameters
                ns["optimizer"] = torch.optim.SGD(ns["model"].parameters(), lr=0.01)
            for _ in range(EPOCHS):
                train_one_epoch(ns["model"], ns["train_loader"], ns["optimizer"])
        finally:
            torch.autograd.set_detect_anomaly(False)


# ----------------------------------------------------------------------------------- Keras


def run_keras(snippet: str, task: str, folder: Path) -> None:
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if task == "images":
        x_all = rng.normal(size=(48, 8, 8, 3)).astype("float32")
    else:
        x_all = rng.normal(size=(48, N_FEATURES)).astype("float32")
    if task == "regression":
        y_all = (1e6 * rng.normal(size=(48, 1))).astype("float32")
        n_outputs, loss, metrics = 1, "mse", []
    else:
        y_all = rng.integers(0, N_CLASSES, size=48)
        n_outputs = N_CLASSES
        loss, metrics = keras.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"]
    head = [layers.Flatten()] if task == "images" else []
    model = keras.Sequential(
        [
            keras.Input(shape=x_all.shape[1:]),
            *head,
            layers.Dense(8, activation="relu"),
            layers.Dense(n_outputs),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss=loss, metrics=metrics)
    ns: dict = {
        "keras": keras,
        "layers": layers,
        "np": np,
        "tf": tf,
        "model": model,
        "x_train": x_all[:32],
        "y_train": y_all[:32],
        "x_val": x_all[32:],
        "y_val": y_all[32:],
        "epochs": EPOCHS,
        "batch_size": 8,
        "units": 8,
        "n_outputs": n_outputs,
    }
    code = compile(snippet, "<remedy>", "exec")
    with inside(folder):
        try:
            exec(code, ns)
            if "model.fit(" in snippet:  # the snippet is the training call
                return
            m = ns["model"]
            if m is not model:  # a new model: compiled as the run's was
                m.compile(
                    optimizer=keras.optimizers.SGD(learning_rate=0.01), loss=loss, metrics=metrics
                )
            m.fit(
                ns["x_train"],
                ns["y_train"],
                validation_data=(ns["x_val"], ns["y_val"]),
                epochs=EPOCHS,
                batch_size=8,
                verbose=0,
            )
        finally:
            tf.debugging.disable_check_numerics()


# ------------------------------------------------------------------------------- Lightning

_MODULE = """
class Module(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(N_FEATURES, 8), nn.ReLU(), nn.Linear(8, N_CLASSES))
        self.lr = 0.05
        self.train_set = train_set
        self.batch_size = 8

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", nn.functional.cross_entropy(logits, y))
        self.log("val_accuracy", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)

{methods}
"""


def run_lightning(snippet: str, folder: Path) -> None:
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    x_all, y_all = torch.randn(48, N_FEATURES), torch.randint(0, N_CLASSES, (48,))
    train_set = TensorDataset(x_all[:32], y_all[:32])
    ns: dict = {
        "L": L,
        "torch": torch,
        "nn": nn,
        "EarlyStopping": EarlyStopping,
        "ModelCheckpoint": ModelCheckpoint,
        "train_set": train_set,
        "train_loader": DataLoader(train_set, batch_size=8, shuffle=True),
        "val_loader": DataLoader(TensorDataset(x_all[32:], y_all[32:]), batch_size=8),
        "epochs": EPOCHS,
        "N_FEATURES": N_FEATURES,
        "N_CLASSES": N_CLASSES,
    }
    is_method = snippet.lstrip().startswith("def ")
    methods = textwrap.indent(snippet, "    ") if is_method else ""
    exec(compile(_MODULE.format(methods=methods), "<module>", "exec"), ns)
    quiet = {"enable_progress_bar": False, "enable_model_summary": False, "logger": False}
    with inside(folder):
        if not is_method:
            exec(compile(snippet, "<remedy>", "exec"), ns)
        trainer = ns.get("trainer") or L.Trainer(max_epochs=EPOCHS, **quiet)
        module = ns["Module"]()
        own_loader = "def train_dataloader" in snippet
        trainer.fit(
            module,
            train_dataloaders=None if own_loader else ns["train_loader"],
            val_dataloaders=ns["val_loader"],
        )
        assert trainer.current_epoch >= 1


# ----------------------------------------------------------------------------- Hugging Face


def run_hf(snippet: str, folder: Path) -> None:
    import numpy as np
    import torch
    from torch import nn
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments

    torch.manual_seed(0)

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(N_FEATURES, 8), nn.ReLU(), nn.Linear(8, N_CLASSES))

        def forward(self, x, labels=None):
            logits = self.net(x)
            out = {"logits": logits}
            if labels is not None:
                out["loss"] = nn.functional.cross_entropy(logits, labels)
            return out

    x_all, y_all = torch.randn(48, N_FEATURES), torch.randint(0, N_CLASSES, (48,))
    rows = [{"x": x_all[i], "labels": y_all[i]} for i in range(48)]

    def compute_metrics(pred):
        return {"accuracy": float((np.argmax(pred.predictions, -1) == pred.label_ids).mean())}

    with inside(folder):
        args = TrainingArguments(
            output_dir=str(folder / "out"),
            num_train_epochs=EPOCHS,
            per_device_train_batch_size=8,
            per_device_eval_batch_size=8,
            report_to="none",
            use_cpu=True,
            save_strategy="no",
            disable_tqdm=True,
        )
        ns: dict = {
            "TrainingArguments": TrainingArguments,
            "Trainer": Trainer,
            "EarlyStoppingCallback": EarlyStoppingCallback,
            "args": args,
            "model": Tiny(),
            "train_ds": rows[:32],
            "eval_ds": rows[32:],
            "compute_metrics": compute_metrics,
        }
        exec(compile(snippet, "<remedy>", "exec"), ns)
        trainer = ns.get("trainer") or Trainer(
            model=ns["model"],
            args=ns["args"],
            train_dataset=ns["train_ds"],
            eval_dataset=ns["eval_ds"],
        )
        trainer.args.report_to = []
        out = trainer.train()
        assert out.global_step > 0
