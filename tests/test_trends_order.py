"""The fast median and quantile of ``analyzer.trends._order`` give numpy's numbers, bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analyzer.trends._order import median, quantile


def _arrays():
    rng = np.random.default_rng(7)
    for n in [*range(1, 40), 99, 100, 257, 1000]:
        yield rng.normal(size=n)
        yield rng.integers(0, 4, size=n).astype(float)  # ties
        yield np.exp(rng.normal(0, 5, size=n))  # wide range
        with_specials = rng.normal(size=n)
        for k, special in enumerate((np.inf, -np.inf, np.nan)):
            if n > k:
                with_specials[(k * 7) % n] = special
            yield with_specials.copy()
        yield np.full(n, np.inf)
        yield rng.normal(size=2 * n)[::2]  # not contiguous


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_median_is_numpys():
    for a in _arrays():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.median(a)
            got = median(a)
        assert _same(got, ref), (a, got, ref)
        assert type(got) is type(ref)


@pytest.mark.parametrize(
    "q",
    [
        [0.05, 0.95],
        [0.01, 0.99],
        0.75,
        [0.0, 1.0],
        [0.5],
        2 / 3,
        [0.25, 0.5, 0.999999],
        (0.05, 0.95),  # not a list of Python floats: the generic way
        [np.float64(0.05), 0.95],
    ],
)
def test_quantile_is_numpys(q):
    for a in _arrays():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.quantile(a, q)
            got = quantile(a, q)
        assert _same(got, ref), (a, q, got, ref)


def test_other_inputs_go_to_numpy():
    assert median([3, 1, 2]) == 2 and median(np.arange(4)) == 1.5
    assert _same(quantile(np.arange(5), [0.5]), np.quantile(np.arange(5), [0.5]))
    with pytest.raises(ValueError):
        quantile(np.ones(3), [1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(median(np.array([])))


@pytest.mark.parametrize("q", [2 / 3, 0.0, 1.0, 0.5, 0.25, 0.95, 0.999999, 1e-9])
def test_row_quantile_is_numpys(q):
    from analyzer.trends._order import row_quantile

    rng = np.random.default_rng(9)
    mats = []
    for rows in (1, 2, 7, 500):
        for cols in (1, 2, 3, 4, 7, 10, 64, 257):
            mats.append(rng.normal(size=(rows, cols)))
            mats.append(rng.integers(0, 3, size=(rows, cols)).astype(float))  # ties
            with np.errstate(over="ignore"):
                mats.append(np.exp(rng.normal(0, 300, size=(rows, cols))))  # huge, 0, inf
            specials = rng.normal(size=(rows, cols))
            specials[rng.random((rows, cols)) < 0.05] = np.nan
            specials[rng.random((rows, cols)) < 0.05] = np.inf
            specials[rng.random((rows, cols)) < 0.05] = -np.inf
            mats.append(specials)
            mats.append(np.where(rng.random((rows, cols)) < 0.5, 0.0, -0.0))  # signed zeros
            mats.append(np.full((rows, cols), 0.125))  # constant
            mats.append(rng.normal(size=(rows, 2 * cols))[:, ::2])  # not contiguous
    for m in mats:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.quantile(m, q, axis=1)
            got = row_quantile(m, q)
        assert _same(got, ref), (m.shape, q, got, ref)


def test_row_quantile_hands_other_inputs_to_numpy():
    from analyzer.trends._order import row_quantile

    m = np.arange(12.0).reshape(3, 4)
    assert _same(row_quantile(m, np.float64(0.5)), np.quantile(m, 0.5, axis=1))
    assert _same(
        row_quantile(m.astype(np.float32), 0.5), np.quantile(m.astype(np.float32), 0.5, axis=1)
    )
    assert _same(row_quantile(m, [0.5, 0.9]), np.quantile(m, [0.5, 0.9], axis=1))
    with pytest.raises(ValueError):
        row_quantile(m, 1.5)
