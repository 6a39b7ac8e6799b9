"""The training loss on the evaluation cadence: per-iteration losses averaged between two
evaluations (or over runs of ~sqrt(n) points when nothing is evaluated), so minibatch noise does
not pass for a swing or a level. ``train`` and ``val`` are anything with ``steps`` and ``values``
arrays (``val`` may be None)."""

from __future__ import annotations

import numpy as np


def epoch_level(train, val) -> tuple[np.ndarray, np.ndarray]:
    """The training loss on the validation schedule: when training is logged much more often
    than validation (per iteration vs per epoch), average it over each interval between two
    evaluations, so minibatch noise does not pass for a swing. Finite points only."""
    s, m, _ = epoch_means(train, val, dense=np.iinfo(np.int64).max)
    return s, m


def epoch_means(
    train, val, *, dense: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`epoch_level` plus the standard error of each interval mean relative to it (the
    sampling noise of an average of a few noisy minibatch losses), or None when no averaging was
    needed (the training loss is logged at the evaluation cadence). Without a validation
    curve, a curve of at least ``dense`` points is averaged over runs of ~sqrt(n) points."""
    s = np.asarray(train.steps)
    v = np.asarray(train.values, dtype=float)
    fin = np.isfinite(v)
    s, v = s[fin], v[fin]
    if val is None:
        if len(s) < dense:
            return s, v, None
        # no evaluation cadence: a long (per-iteration) curve is averaged over runs of about
        # sqrt(n) points, which plays the role of the interval between evaluations
        q = int(np.ceil(np.sqrt(len(s))))
        vs = s[q - 1 :: q] if (len(s) - 1) % q == q - 1 else np.r_[s[q - 1 :: q], s[-1]]
    elif len(s) <= 2 * len(val):
        return s, v, None
    else:
        vs = np.unique(np.asarray(val.steps))
    idx = np.searchsorted(vs, s, side="left")  # point i belongs to the interval ending at vs[idx]
    keep = idx < len(vs)
    idx, v = idx[keep], v[keep]
    counts = np.bincount(idx, minlength=len(vs))
    sums = np.bincount(idx, weights=v, minlength=len(vs))
    ok = counts > 0
    n = counts[ok].astype(float)
    means = sums[ok] / n
    dev2 = (v - (sums / np.maximum(counts, 1))[idx]) ** 2
    var = np.bincount(idx, weights=dev2, minlength=len(vs))[ok] / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_se = np.where((n > 1) & (means != 0), np.sqrt(var / n) / np.abs(means), np.nan)
    return vs[ok], means, rel_se
