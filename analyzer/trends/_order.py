"""``np.median`` and ``np.quantile`` of one 1-D float curve, bit for bit, without their overhead.

The trend functions take medians and quantiles of short arrays (tens to hundreds of points) many
times per run: ~60 medians and ~30 quantiles, each ~15 and ~30 microseconds in numpy, where the
selection itself (one ``np.partition``) takes ~2. These do the same selection and the same
arithmetic as numpy's ``median`` and ``quantile(method="linear")`` (the mean of the one or two
middle values; the linear interpolation of ``_lerp``, exact at both ends; NaN when the array
holds one), so results are identical, which ``tests/test_trends_order.py`` checks against numpy
itself. Anything else (not 1-D float64, empty, other methods) goes to numpy as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def median(x: Any) -> Any:
    """``np.median(x)`` (a numpy float for a 1-D float64 array)."""
    a = np.asarray(x)
    n = a.size
    if a.ndim != 1 or n == 0 or a.dtype != np.float64:
        return np.median(a)
    h = n // 2
    if n % 2:
        p = np.partition(a, (h, -1))
        m = p[h]
    else:
        p = np.partition(a, (h - 1, h, -1))
        m = (p[h - 1] + p[h]) / 2
    last = p[-1]
    return last if np.isnan(last) else m


def quantile(x: Any, q: Any) -> Any:
    """``np.quantile(x, q)`` with the default (linear) method: an array for a sequence ``q``, a
    numpy float for a number."""
    a = np.asarray(x)
    n = a.size
    if a.ndim != 1 or n == 0 or a.dtype != np.float64:
        return np.quantile(a, q)
    scalar = np.ndim(q) == 0
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if qs.ndim != 1 or not np.all((qs >= 0) & (qs <= 1)):
        return np.quantile(a, q)  # numpy's own error
    virtual = (n - 1) * qs
    prev = np.floor(virtual)
    nxt = prev + 1
    top = virtual >= n - 1
    prev[top] = -1
    nxt[top] = -1
    i, j = prev.astype(np.intp), nxt.astype(np.intp)
    p = np.partition(a, np.unique(np.concatenate(([0, -1], i, j))))
    gamma = virtual - i
    lo, hi = p[i], p[j]
    diff = hi - lo
    out = lo + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (hi - diff * (1 - gamma))[upper]
    if np.isnan(p[-1]):
        out[:] = p[-1]
    return out[0] if scalar else out
