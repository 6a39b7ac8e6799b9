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

import math
from functools import lru_cache
from typing import Any

import numpy as np


def median(x: Any) -> Any:
    """``np.median(x)`` (a numpy float for a 1-D float64 array)."""
    a = np.asarray(x)
    n = a.size
    if a.ndim != 1 or n == 0 or a.dtype != np.float64:
        return np.median(a)
    h = n // 2
    p = a.copy()  # np.partition(a, kth), without its wrapper
    if n % 2:
        p.partition((h, -1))
        m = p[h]
    else:
        p.partition((h - 1, h, -1))
        m = (p[h - 1] + p[h]) / 2
    last = p[-1]
    return last if last != last else m  # NaN sorts last: the median is NaN


def quantile(x: Any, q: Any) -> Any:
    """``np.quantile(x, q)`` with the default (linear) method: an array for a sequence ``q``, a
    numpy float for a number."""
    a = np.asarray(x)
    n = a.size
    if type(q) is list and a.ndim == 1 and n and a.dtype == np.float64:
        # the trends' own calls (a list of Python floats): the checks below, done once per
        # (length, quantiles) by _picks
        try:
            picks, kth = _picks(n, tuple(q))
        except (TypeError, ValueError):
            pass
        else:
            return _select(a, picks, kth)
    if a.ndim != 1 or n == 0 or a.dtype != np.float64 or np.ndim(q) > 1:
        return np.quantile(a, q)
    scalar = np.ndim(q) == 0
    qs = [float(v) for v in np.atleast_1d(np.asarray(q, dtype=np.float64))]
    if not all(0.0 <= v <= 1.0 for v in qs):
        return np.quantile(a, q)  # numpy's own error
    picks, kth = _pick(n, qs)
    out = _select(a, picks, kth)
    return out[0] if scalar else out


def _pick(n: int, qs: list[float]) -> tuple[tuple[tuple[int, int, float], ...], tuple[int, ...]]:
    """Per quantile (index below, index above, weight of the one above), and the indices to
    partition at."""
    picks = []
    for v in qs:
        virtual = (n - 1) * v
        i = -1 if virtual >= n - 1 else math.floor(virtual)
        j = -1 if i == -1 else i + 1
        picks.append((i, j, virtual - i))
    return tuple(picks), (0, -1, *(k for i, j, _ in picks for k in (i, j)))


@lru_cache(maxsize=256)
def _picks(
    n: int, q: tuple[Any, ...]
) -> tuple[tuple[tuple[int, int, float], ...], tuple[int, ...]]:
    """:func:`_pick` for quantiles given as Python floats in [0, 1] (ValueError otherwise)."""
    if not all(type(v) is float and 0.0 <= v <= 1.0 for v in q):
        raise ValueError("not quantiles as Python floats in [0, 1]")
    return _pick(n, list(q))


def _select(
    a: np.ndarray, picks: tuple[tuple[int, int, float], ...], kth: tuple[int, ...]
) -> np.ndarray:
    p = a.copy()  # np.partition(a, kth), without its wrapper
    p.partition(kth)
    if np.isnan(p[-1]):
        return np.full(len(picks), p[-1])
    vals = []
    for i, j, gamma in picks:
        lo, hi = p[i], p[j]
        diff = hi - lo
        vals.append(hi - diff * (1 - gamma) if gamma >= 0.5 else lo + diff * gamma)
    return np.array(vals, dtype=np.float64)


def row_quantile(m: Any, q: Any) -> Any:
    """``np.quantile(m, q, axis=1)`` with the default (linear) method for one quantile ``q`` (a
    Python float in [0, 1]) of each row of a 2-D float64 matrix: one partition of the rows and
    the arithmetic of :func:`_select` on the two columns it picks (row by row, the same numbers
    as numpy, NaN for a row holding one). numpy's own for anything else."""
    a = np.asarray(m)
    if (
        a.ndim != 2
        or 0 in a.shape
        or a.dtype != np.float64
        or type(q) is not float
        or not 0.0 <= q <= 1.0
    ):
        return np.quantile(a, q, axis=1)
    ((i, j, gamma),), kth = _picks(a.shape[1], (q,))
    p = a.copy()  # np.partition(a, kth, axis=1), without its wrapper
    p.partition(kth, axis=1)
    lo, hi = p[:, i], p[:, j]
    diff = hi - lo
    out = hi - diff * (1 - gamma) if gamma >= 0.5 else lo + diff * gamma
    last = p[:, -1]
    nan = last != last  # NaN sorts last: the row's quantile is NaN
    if nan.any():
        out[nan] = last[nan]
    return out
