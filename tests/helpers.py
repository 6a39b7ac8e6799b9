"""Shared test helpers: build CurveSets from arrays and run one rule."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

from analyzer.curves import Curve, CurveSet


def curve(steps, values, tag="loss", role="train_loss", direction="min"):
    return Curve.of(np.asarray(steps), np.asarray(values, dtype=float), tag, role, direction)


def cs(train=None, val=None, lr=None, val_metric=None, **kw):
    """CurveSet from (steps, values) pairs."""
    return CurveSet(
        run="t",
        train=curve(*train) if train is not None else None,
        val=curve(*val, tag="val_loss", role="val_loss") if val is not None else None,
        lr=curve(*lr, tag="lr", role="lr", direction=None) if lr is not None else None,
        val_metric=curve(*val_metric, tag="val_accuracy", role="val_metric", direction="max")
        if val_metric is not None
        else None,
        **kw,
    )


def codes(findings):
    return sorted(f.code for f in findings)


def load_script(name: str):
    """A script of ``fixtures/`` (e.g. ``make_text_logs``) imported as a module."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
