"""Load the user's experiment file and check what it returns against the contract.

The contract
============

The experiment is a Python file that defines::

    def experiment(hp: dict) -> dict:
        lr = hp.get("learning_rate", 1e-3)        # defaults live in the user's file
        width = int(64 * hp.get("width_multiplier", 1.0))
        ...
        return {
            "model": model,            # a keras.Model, compiled or not
            "train": (x_train, y_train),   # or a tf.data.Dataset (already batched)
            "val": (x_val, y_val),         # or a tf.data.Dataset
            "test": (x_test, y_test),      # optional: held-out data the end loss is judged on
            "fit": {...},              # optional: extra keyword arguments for model.fit
            "compile": {...},          # optional: model.compile arguments (loss, metrics) used
                                       #   when the model is not compiled yet
        }

``curvelint verify`` calls ``experiment(hp)`` once per run, after seeding Python, NumPy and
TensorFlow with the run's seed, so the same seed gives the same initial weights in the baseline
and in every remedied run. The hyperparameters it may set (:data:`HYPERPARAMETERS`):

``learning_rate``, ``optimizer`` (a Keras optimizer name such as "adam" or "sgd"), ``beta_1``,
``beta_2``, ``epsilon``, ``momentum``, ``clipnorm``
    honoured by the user's function when it compiles the model itself; when the model comes back
    uncompiled the verifier builds the optimizer from them (default Adam, learning rate 1e-3).
``batch_size``, ``epochs``
    the verifier passes them to ``model.fit`` for array data; a ``tf.data.Dataset`` must be
    batched by the user's function with ``hp["batch_size"]``.
``dropout``, ``l2``, ``width_multiplier``
    only the user's function can honour them (they shape the model).
``normalize_inputs``
    honoured by the user's function, or, for NumPy array inputs, applied by the verifier
    (standardisation with the training set's mean and standard deviation).
``seed``
    informational: the seed of this run.

Which data judges a remedy: the loss of the weights a run ends with is measured on data that no
callback saw, because EarlyStopping and ReduceLROnPlateau *select* on the validation loss and a
remedy scored on the data it selected on wins by construction. That data is the optional
``"test"`` split when the experiment returns one; otherwise verify splits the validation data in
two halves (the same random half for every run): one for the callbacks and the curves, one held
out for the judgement. The report says which.

The verifier records which keys the function read and the defaults it passed to ``hp.get``; a
remedy that needs a key the experiment never reads is reported as *not applicable* instead of being
trained as a silent no-op. Callbacks are the verifier's business: it adds ReduceLROnPlateau,
learning-rate warm-up, EarlyStopping(restore_best_weights=True), TensorBoard logging and its
own progress and time-budget callbacks; ``fit`` must therefore not contain ``epochs``,
``callbacks``, ``validation_data``, ``x``, ``y`` or ``verbose``.

This module does not import TensorFlow: it checks the returned objects by their shape (a model
has ``fit`` and ``evaluate``, a dataset has ``element_spec``), so its errors can be tested fast.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HYPERPARAMETERS: dict[str, str] = {
    "learning_rate": "optimizer learning rate",
    "optimizer": "Keras optimizer name (adam, adamw, sgd, rmsprop, ...)",
    "beta_1": "Adam beta_1",
    "beta_2": "Adam beta_2",
    "epsilon": "Adam epsilon",
    "momentum": "SGD/RMSprop momentum",
    "clipnorm": "gradient norm clipping",
    "batch_size": "examples per batch",
    "epochs": "number of epochs",
    "dropout": "dropout rate",
    "l2": "L2 weight penalty",
    "width_multiplier": "multiplier of the layer widths",
    "normalize_inputs": "standardise the inputs",
    "seed": "this run's seed (informational)",
}
OPTIMIZER_KEYS = (
    "learning_rate",
    "optimizer",
    "beta_1",
    "beta_2",
    "epsilon",
    "momentum",
    "clipnorm",
)
RESULT_KEYS = ("model", "train", "val", "test", "fit", "compile")
RESERVED_FIT_KEYS = ("epochs", "callbacks", "validation_data", "x", "y", "verbose")


class ExperimentError(Exception):
    """The experiment file is missing, does not import, or does not follow the contract."""


class TrackedHP(dict):
    """A dict of hyperparameters that remembers which keys were read and the defaults given to
    ``get``, so the verifier knows what the experiment honours."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()
        self.defaults: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        if default is not None:
            self.defaults.setdefault(key, default)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return super().__contains__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        if default is not None:
            self.defaults.setdefault(key, default)
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self.read.add(key)
        return super().pop(key, *default)


@dataclass
class ExperimentSpec:
    """What one call of ``experiment(hp)`` returned, checked, plus what it read from ``hp``."""

    model: Any
    train: Any
    val: Any
    fit: dict[str, Any] = field(default_factory=dict)
    compile: dict[str, Any] = field(default_factory=dict)
    hp_read: set[str] = field(default_factory=set)
    hp_defaults: dict[str, Any] = field(default_factory=dict)
    compiled: bool = False  # whether experiment(hp) returned the model already compiled
    test: Any = None  # the optional held-out split

    @property
    def arrays(self) -> bool:
        """True when train and val are (x, y) pairs rather than datasets."""
        return isinstance(self.train, tuple)


def load_experiment(path: str | Path) -> Callable[[dict], dict]:
    """Import the experiment file and return its ``experiment`` function.

    Raises :class:`ExperimentError` with a message that says what to fix: the file is missing,
    is not a Python file, fails to import (with the last lines of the traceback), or defines no
    callable ``experiment`` taking one argument.
    """
    p = Path(path)
    if not p.exists():
        raise ExperimentError(f"experiment file not found: {p}")
    if p.is_dir():
        raise ExperimentError(f"{p} is a folder; give the experiment's .py file")
    if p.suffix != ".py":
        raise ExperimentError(f"{p} is not a Python file (.py)")
    name = f"_curvelint_experiment_{p.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always have a loader
        raise ExperimentError(f"cannot import {p}")
    module = importlib.util.module_from_spec(spec)
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)  # let the experiment import its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:
        sys.modules.pop(name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ExperimentError(f"{p} failed to import:\n{_tail(e)}") from e
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    fn = getattr(module, "experiment", None)
    if fn is None:
        defined = sorted(
            k for k, v in vars(module).items() if callable(v) and not k.startswith("_")
        )
        raise ExperimentError(
            f"{p} defines no function `experiment(hp)`"
            + (f" (it defines: {', '.join(defined[:10])})" if defined else "")
        )
    if not callable(fn):
        raise ExperimentError(f"{p}: `experiment` is a {type(fn).__name__}, not a function")
    try:
        inspect.signature(fn).bind({})
    except TypeError as e:
        raise ExperimentError(
            f"{p}: `experiment` must take one argument, the dict of hyperparameters ({e})"
        ) from e
    except ValueError:  # builtins without a signature: let the call decide
        pass
    return fn


def _tail(e: BaseException, lines: int = 8) -> str:
    """The error and the traceback frames of the user's code (not importlib's, not ours)."""
    here = str(Path(__file__).resolve().parent)
    frames = [
        f
        for f in traceback.extract_tb(e.__traceback__)
        if not f.filename.startswith("<frozen") and not f.filename.startswith(here)
    ]
    text = "".join(traceback.format_list(frames)) + "".join(
        traceback.format_exception_only(type(e), e)
    )
    return "\n".join("  " + ln for ln in text.rstrip().splitlines()[-lines:])


def call_experiment(fn: Callable[[dict], dict], hp: Mapping[str, Any]) -> ExperimentSpec:
    """Call ``fn(hp)`` and check the result against the contract (see the module docstring)."""
    unknown = set(hp) - set(HYPERPARAMETERS)
    if unknown:  # a verifier bug rather than a user error, but say it clearly
        raise ExperimentError(f"unknown hyperparameter(s): {', '.join(sorted(unknown))}")
    tracked = TrackedHP(hp)
    try:
        out = fn(tracked)
    except Exception as e:
        raise ExperimentError(
            f"experiment(hp) raised an error with hp={dict(hp)}:\n{_tail(e)}"
        ) from e
    return validate_result(out, tracked)


def validate_result(out: Any, tracked: TrackedHP | None = None) -> ExperimentSpec:
    """Check the dict returned by ``experiment(hp)``; raise :class:`ExperimentError` saying what
    is wrong and what was expected."""
    if not isinstance(out, Mapping):
        raise ExperimentError(
            f"experiment(hp) must return a dict with keys {_keys(RESULT_KEYS)}, "
            f"got {type(out).__name__}"
        )
    extra = set(out) - set(RESULT_KEYS)
    if extra:
        raise ExperimentError(
            f"experiment(hp) returned unknown key(s) {_keys(sorted(extra))}; "
            f"allowed: {_keys(RESULT_KEYS)}"
        )
    missing = [k for k in ("model", "train", "val") if k not in out]
    if missing:
        raise ExperimentError(
            f"experiment(hp) returned no {_keys(missing)} (it returned {_keys(list(out))})"
        )
    model = out["model"]
    if not all(callable(getattr(model, a, None)) for a in ("fit", "evaluate", "compile")):
        raise ExperimentError(
            f'"model" must be a keras.Model (with fit/evaluate/compile), got {type(model).__name__}'
        )
    train = _check_data("train", out["train"])
    val = _check_data("val", out["val"])
    if isinstance(train, tuple) != isinstance(val, tuple):
        raise ExperimentError('"train" and "val" must both be (x, y) pairs or both be datasets')
    test = _check_data("test", out["test"]) if out.get("test") is not None else None
    if test is not None and isinstance(test, tuple) != isinstance(val, tuple):
        raise ExperimentError('"test" must be the same kind as "val": an (x, y) pair or a dataset')
    fit = _check_kwargs("fit", out.get("fit"))
    bad = [k for k in fit if k in RESERVED_FIT_KEYS]
    if bad:
        raise ExperimentError(
            f'"fit" must not set {_keys(bad)}: the verifier controls them '
            "(epochs via --epochs or hp['epochs'], its own callbacks, the validation data)"
        )
    comp = _check_kwargs("compile", out.get("compile"))
    spec = ExperimentSpec(
        model=model,
        train=train,
        val=val,
        fit=fit,
        compile=comp,
        hp_read=set(tracked.read) if tracked is not None else set(),
        hp_defaults=dict(tracked.defaults) if tracked is not None else {},
        compiled=_is_compiled(model),
        test=test,
    )
    if not spec.compiled and "loss" not in comp:
        raise ExperimentError(
            'the model is not compiled and "compile" gives no "loss": compile the model in '
            'experiment(hp) or return "compile": {"loss": ..., "metrics": [...]}'
        )
    return spec


def _is_compiled(model: Any) -> bool:
    return bool(getattr(model, "compiled", False) or getattr(model, "optimizer", None))


def _keys(keys: Iterable[str]) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def _length(x: Any) -> int | None:
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape):
        return int(shape[0]) if shape[0] is not None else None
    try:
        return len(x)
    except TypeError:
        return None


def _check_data(name: str, data: Any) -> Any:
    if hasattr(data, "element_spec"):  # a tf.data.Dataset
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
        nx, ny = _length(x), _length(y)
        if nx is None or ny is None:
            raise ExperimentError(
                f'"{name}" = (x, y) needs arrays with a length, got '
                f"{type(x).__name__} and {type(y).__name__}"
            )
        if nx != ny:
            raise ExperimentError(f'"{name}": x has {nx} examples but y has {ny}')
        if nx == 0:
            raise ExperimentError(f'"{name}" is empty')
        return (x, y)
    raise ExperimentError(
        f'"{name}" must be an (x, y) pair or a tf.data.Dataset, got {type(data).__name__}'
        + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else "")
    )


def _check_kwargs(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ExperimentError(
            f'"{name}" must be a dict of keyword arguments, got {type(value).__name__}'
        )
    return dict(value)
