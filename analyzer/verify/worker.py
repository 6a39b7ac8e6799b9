"""Training in a child process: the user's experiment runs where a crash, a hang or a stray
``print`` cannot take ``curvelint verify`` down with it.

The parent (:mod:`analyzer.verify.runner`) starts one child with the ``spawn`` method (a fresh
interpreter: no TensorFlow state inherited), which imports the experiment file once and then
trains the runs it is sent, one at a time, over a pipe. Each training is under a wall-clock limit
the parent enforces: when it is exceeded the parent kills the child, reports the run, and starts a
fresh child for the next run. Messages (tuples) from the child:

``("loaded", None)`` / ``("error", text)``
    after importing the experiment file;
``("spec", dict)``
    after a probe call of ``experiment(hp)`` (which keys it reads, its defaults);
``("start", None)``, ``("epoch", label, epoch, epochs, loss, val_loss)``, ``("done", dict)``
    while and after training a run; ``("error", text)`` when the experiment or ``model.fit``
    raised, with the last frames of the user's traceback.

Only this module and the functions it runs import TensorFlow, and only inside the child.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .experiment import ExperimentError, ExperimentSpec, call_experiment, load_experiment
from .remedies import DEFAULT_BATCH, DEFAULT_LR, Change

HOLDOUT_SEED = 20261207  # the validation split verify makes is the same for every run
MIN_SPLIT = 20  # fewer validation examples than this are not split (each half would be noise)


def serve(conn: Any, experiment: str) -> None:
    """The child's main loop (the target of the spawned process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:  # the user's prints must not reach the parent's stdout (it may be --format json)
        sys.stdout.flush()
        os.dup2(2, 1)
    except OSError:  # pragma: no cover - no file descriptors (embedded interpreters)
        pass
    sys.stdout = sys.stderr
    try:
        fn = load_experiment(experiment)
    except ExperimentError as e:
        conn.send(("error", str(e)))
        return
    conn.send(("loaded", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        kind = msg[0]
        if kind == "stop":
            return
        try:
            if kind == "probe":
                spec = call_experiment(fn, msg[1])
                conn.send(("spec", spec_summary(spec)))
            elif kind == "train":
                conn.send(("start", None))
                conn.send(("done", train(fn, msg[1], conn.send)))
        except ExperimentError as e:
            conn.send(("error", str(e)))
        except Exception as e:
            conn.send(("error", describe_error(e)))


def describe_error(e: BaseException) -> str:
    """The error as the user needs it: the exception that started it and the user's frames.

    TensorFlow wraps an error raised inside a data pipeline (a generator, a ``py_function``) in its
    own exception whose message embeds the original traceback; that original error is what
    matters, so it is taken out of the message."""
    text = str(e)
    marker = "Traceback (most recent call last):"
    if marker in text:
        head = text[: text.index(marker)].strip().splitlines()
        inner = text[text.index(marker) + len(marker) :].splitlines()
        cause = next((ln.strip() for ln in inner if ln and not ln[0].isspace() and ":" in ln), None)
        frames = [
            f"{ln.rstrip()}\n{nxt.rstrip()}"
            for ln, nxt in zip(inner, inner[1:] + [""], strict=True)
            if ln.strip().startswith('File "') and "site-packages" not in ln
        ]
        where = "\n".join(frames[-3:])
        first = head[0] if head else type(e).__name__
        return (
            f"{cause or first} (raised inside TensorFlow's data pipeline: "
            f"{type(e).__name__})" + (f"\n{where}" if where else "")
        )
    return f"{type(e).__name__}: {text}\n{_user_frames(e)}"


def _user_frames(e: BaseException, lines: int = 8) -> str:
    """The traceback's last lines, without this package's frames."""
    here = str(Path(__file__).resolve().parent)
    frames = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith(here)]
    text = "".join(traceback.format_list(frames)).rstrip()
    return "\n".join("  " + ln for ln in text.splitlines()[-lines:])


def spec_summary(spec: ExperimentSpec) -> dict[str, Any]:
    """What the parent needs to know about the experiment, as plain data."""
    return {
        "hp_read": sorted(spec.hp_read),
        "hp_defaults": dict(spec.hp_defaults),
        "arrays": spec.arrays,
        "compiled": spec.compiled,
        "has_test": spec.test is not None,
        "n_outputs": n_outputs(spec.model),
    }


def n_outputs(model: Any) -> int | None:
    """The size of the model's last output axis (the class count of a softmax classifier)."""
    try:
        shape = model.output_shape
        if isinstance(shape, list):
            shape = shape[0]
        n = shape[-1]
        return int(n) if n is not None else None
    except Exception:
        return None


def _is_cross_entropy(model: Any, spec: ExperimentSpec) -> bool:
    loss = spec.compile.get("loss") if not spec.compiled else getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    return "crossentropy" in str(name).lower().replace("_", "")


def _optimizer(keras: Any, hp: dict[str, Any]) -> Any:
    name = str(hp.get("optimizer") or "adam").lower()
    cfg: dict[str, Any] = {"learning_rate": float(hp.get("learning_rate") or DEFAULT_LR)}
    for k in ("beta_1", "beta_2", "epsilon", "momentum", "clipnorm"):
        if hp.get(k) is not None:
            cfg[k] = hp[k]
    try:
        return keras.optimizers.get({"class_name": name, "config": cfg})
    except (ValueError, TypeError) as e:
        raise ExperimentError(f"cannot build optimizer {name!r} with {cfg}: {e}") from e


def _callbacks(keras: Any, change: Change | None) -> list[Any]:
    out: list[Any] = []
    for name, kw in change.callbacks if change else ():
        if name == "reduce_lr_on_plateau":
            out.append(keras.callbacks.ReduceLROnPlateau(**kw))
        elif name == "early_stopping":
            out.append(keras.callbacks.EarlyStopping(**kw))
        elif name == "warmup":
            out.append(_warmup(keras, int(kw["epochs"])))
        else:  # pragma: no cover - remedies.py and this list go together
            raise ValueError(f"unknown callback {name!r}")
    return out


def _warmup(keras: Any, epochs: int) -> Any:
    class Warmup(keras.callbacks.Callback):
        """Linear warm-up from 1/10 of the learning rate to the full one over ``epochs`` epochs."""

        def on_train_begin(self, logs=None):
            self.target = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

        def on_epoch_begin(self, epoch, logs=None):
            if epoch <= epochs:
                frac = 0.1 + 0.9 * min(1.0, epoch / epochs)
                self.model.optimizer.learning_rate.assign(self.target * frac)

    return Warmup()


def _standardise(x_train: Any, *others: Any) -> list[Any]:
    import numpy as np

    xt = np.asarray(x_train, dtype="float32")
    mu, sd = xt.mean(axis=0), xt.std(axis=0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    return [(xt - mu) / sd] + [(np.asarray(x, dtype="float32") - mu) / sd for x in others]


def split_validation(spec: ExperimentSpec) -> tuple[Any, Any, str]:
    """(data the callbacks and curves use, held-out data the end loss is judged on, what the
    held-out data is). The experiment's own ``"test"`` split when it returns one; else half of
    the validation data, the same random half for every run; else (too little to split) the
    validation data itself, said so."""
    import numpy as np

    if spec.test is not None:
        what = _count(spec.test)
        return spec.val, spec.test, f'the "test" split experiment(hp) returned ({what})'
    if spec.arrays:
        vx, vy = spec.val
        n = len(vy)
        if n < MIN_SPLIT:
            return (
                spec.val,
                spec.val,
                (
                    f"the validation data itself ({n} examples: too few to split, so not held out "
                    "from what the callbacks monitor)"
                ),
            )
        order = np.random.default_rng(HOLDOUT_SEED).permutation(n)
        a, b = np.sort(order[: n // 2]), np.sort(order[n // 2 :])
        sel = (_take(vx, a), _take(vy, a))
        hold = (_take(vx, b), _take(vy, b))
        return (
            sel,
            hold,
            (
                f"half of the validation data ({len(b)} of {n} examples, drawn at random once), "
                f"which no callback monitored; the other {len(a)} give the validation curves"
            ),
        )
    n_batches = _n_batches(spec.val)
    if n_batches is None or n_batches < 2:
        return (
            spec.val,
            spec.val,
            (
                "the validation dataset itself (fewer than 2 batches or an unknown count: not split, "
                "so not held out from what the callbacks monitor)"
            ),
        )
    return (
        spec.val.shard(2, 0),
        spec.val.shard(2, 1),
        (
            f"every second batch of the validation dataset ({n_batches // 2} of {n_batches} batches), "
            "which no callback monitored; the other batches give the validation curves"
        ),
    )


def _take(x: Any, idx: Any) -> Any:
    import numpy as np

    return np.asarray(x)[idx]


def _count(data: Any) -> str:
    if isinstance(data, tuple):
        return f"{len(data[1])} examples"
    n = _n_batches(data)
    return f"{n} batches" if n is not None else "a dataset"


def _n_batches(ds: Any) -> int | None:
    try:
        n = int(ds.cardinality())
    except Exception:
        return None
    if n >= 0:
        return n
    if n == -1:  # infinite
        return None
    count = 0
    for _ in ds:
        count += 1
        if count > 100_000:
            return None
    return count


def _write_class_count(log_dir: Path, n: int) -> None:
    """Record the model's output size as the run's hyperparameter ``num_classes`` (TensorBoard's
    hparams plugin) so that curvelint's rules know the chance level ln(C) of this classifier."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp_api

    w = tf.summary.create_file_writer(str(log_dir / "train"))
    with w.as_default():
        hp_api.hparams({"num_classes": n})
    w.close()


def train(fn: Callable[[dict], dict], task: dict[str, Any], send: Callable[[Any], None]) -> dict:
    """Train one run (in the child); return its curves and losses as plain data.

    ``task``: arm, seed, hp, epochs, change (a :class:`Change` or None), log_dir, seconds_left
    (the time budget; the run stops between batches when it runs out), per_epoch_holdout
    (evaluate the held-out data after every epoch, for ``--metric best``).
    """
    import keras

    arm, seed, epochs = task["arm"], task["seed"], int(task["epochs"])
    hp: dict[str, Any] = task["hp"]
    change: Change | None = task.get("change")
    log_dir = Path(task["log_dir"])
    left = task.get("seconds_left")
    deadline = time.monotonic() + left if left is not None else None

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    spec = call_experiment(fn, hp)
    model = spec.model
    if not spec.compiled:
        model.compile(optimizer=_optimizer(keras, hp), **spec.compile)
    if log_dir.exists():
        shutil.rmtree(log_dir)
    log_dir.mkdir(parents=True)
    n_out = n_outputs(model)
    if n_out and n_out > 1 and _is_cross_entropy(model, spec):
        _write_class_count(log_dir, n_out)

    label = f"{arm} seed {seed}"
    state = {"cut": False}
    val, hold, judged_on = split_validation(spec)
    fit = dict(spec.fit)
    if spec.arrays:
        (x, y) = spec.train
        (vx, vy), (hx, hy) = val, hold
        if hp.get("normalize_inputs") and "normalize_inputs" not in spec.hp_read:
            x, vx, hx = _standardise(x, vx, hx)
        bs = int(hp.get("batch_size") or spec.hp_defaults.get("batch_size") or DEFAULT_BATCH)
        fit.setdefault("batch_size", bs)
        args: dict[str, Any] = {"x": x, "y": y, "validation_data": (vx, vy)}

        def evaluate_hold() -> Any:
            return model.evaluate(hx, hy, verbose=0, batch_size=fit["batch_size"])

    else:
        fit.setdefault("shuffle", False)  # a dataset shuffles itself; Keras would warn
        args = {"x": spec.train, "validation_data": val}

        def evaluate_hold() -> Any:
            return model.evaluate(hold, verbose=0)

    hold_curve: list[float] = []

    class Watch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if deadline is not None and time.monotonic() > deadline:
                state["cut"] = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if task.get("per_epoch_holdout"):
                hold_curve.append(_first(evaluate_hold()))
            send(
                (
                    "epoch",
                    label,
                    epoch + 1,
                    epochs,
                    float(logs.get("loss", math.nan)),
                    float(logs.get("val_loss", math.nan)),
                )
            )

    callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False),
        keras.callbacks.TerminateOnNaN(),
        Watch(),
        *_callbacks(keras, change),
    ]
    t0 = time.monotonic()
    hist = model.fit(**args, epochs=epochs, verbose=0, callbacks=callbacks, **fit)
    seconds = time.monotonic() - t0
    end = _first(evaluate_hold())
    h = hist.history
    return {
        "arm": arm,
        "seed": seed,
        "val_loss": [float(v) for v in h.get("val_loss", [])],
        "train_loss": [float(v) for v in h.get("loss", [])],
        "holdout_loss": hold_curve,
        "end_val_loss": end,
        "epochs_run": len(h.get("loss", [])),
        "seconds": seconds,
        "complete": not state["cut"],
        "log_dir": str(log_dir),
        "judged_on": judged_on,
        "n_outputs": n_out,
        "validation_freq": fit.get("validation_freq"),
        "spec": spec_summary(spec),
    }


def _first(ev: Any) -> float:
    """The loss from ``model.evaluate``'s answer (a number, or a list with the loss first); NaN
    when there is none (an empty dataset)."""
    import numpy as np

    flat = np.ravel(np.asarray(ev, dtype=float)) if ev is not None else np.array([])
    return float(flat[0]) if flat.size else math.nan
