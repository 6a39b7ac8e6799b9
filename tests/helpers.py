"""Shared test helpers: build CurveSets from arrays and run one rule."""

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
