import numpy as np
import pytest

from analyzer.trends import (
    effective_noise,
    lowess,
    mad_sigma,
    noise_scale,
    robust_smooth,
    rolling_median,
)
from analyzer.trends.smoothing import lowess_variance_factor
from tests import signals as sg


def _tb_reference(values, weight):
    """TensorBoard's loop (vz_line_chart smoothing), written out literally."""
    last = 0.0
    num = 0
    out = []
    for v in values:
        if not np.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        num += 1
        out.append(last / (1 - weight**num))
    return np.array(out)


def test_rolling_median_reproduces_monotone_runs_and_edges():
    v = np.exp(-np.linspace(0, 5, 50))
    np.testing.assert_array_equal(rolling_median(v, window=9), v)
    step = np.r_[np.ones(20), np.zeros(20)]
    np.testing.assert_array_equal(rolling_median(step, window=9), step)
    spiky = np.ones(30)
    spiky[15] = 50.0
    assert rolling_median(spiky, window=5)[15] == 1.0


def test_lowess_follows_linear_trend_without_edge_bias():
    x = np.arange(200.0)
    rng = np.random.default_rng(2)
    y = 3.0 - 0.01 * x + rng.normal(0, 0.05, 200)
    y[[50, 120]] += 5.0  # spikes, removed by the robustness iterations
    fit = lowess(x, y, window=31)
    truth = 3.0 - 0.01 * x
    assert np.max(np.abs(fit - truth)) < 0.06
    assert abs(fit[-1] - truth[-1]) < 0.05


def test_lowess_variance_factor_matches_monte_carlo():
    x = np.arange(60.0)
    vf = lowess_variance_factor(x, window=11)
    rng = np.random.default_rng(3)
    sims = np.array([lowess(x, rng.normal(0, 1, 60), window=11, iterations=0) for _ in range(400)])
    emp = sims.var(axis=0)
    assert np.allclose(emp[[0, 30, 59]], vf[[0, 30, 59]], rtol=0.25)
    assert vf[0] > 2 * vf[30]  # ends are noisier than the interior


def test_robust_smooth_long_curve_is_binned_and_accurate():
    s, v, truth = sg.exp_decay(n=100_000, per="iteration", noise=0.05, seed=1)
    sm = robust_smooth(s, v)
    assert sm.shape == v.shape
    clean = truth["asymptote"] + (truth["start"] - truth["asymptote"]) * np.exp(-s / truth["tau"])
    err = np.abs(sm - clean)
    # local-linear curvature bias on the steep start (10% window), then tight
    assert np.max(err[1000:]) < 0.03
    assert np.max(err[20_000:]) < 0.007
    assert np.max(err[-10_000:]) < 0.001  # the end level, which rules read, is accurate


def test_robust_smooth_keeps_nan_positions():
    v = np.linspace(1, 0, 20)
    v[3] = np.nan
    sm = robust_smooth(np.arange(20.0), v)
    assert np.isnan(sm[3]) and np.isfinite(sm[[0, 19]]).all()


@pytest.mark.parametrize("method", ["diff", "diff2", "residual"])
def test_noise_scale_recovers_sigma_on_a_trend(method):
    s, v, truth = sg.linear_trend(n=2000, slope=-0.0002, noise=0.02, seed=4)
    assert noise_scale(s, v, method=method) == pytest.approx(truth["sigma"], rel=0.1)


def test_noise_scale_short_and_quantised():
    assert np.isnan(noise_scale([1, 2], [1.0, 2.0]))
    s, v, truth = sg.quantized(n=200, seed=1)
    raw = noise_scale(s, v)
    assert raw == 0.0
    assert effective_noise(raw, v) == pytest.approx(truth["quantum"] / 2)
    assert mad_sigma([]) != mad_sigma([])  # NaN for empty input


def test_median_filter_small_path_equals_scipy(monkeypatch):
    """The window medians taken before scipy.ndimage is imported (numpy's window matrix, or a
    sorted window for wide ones) are scipy's, exactly."""
    from scipy import ndimage

    from analyzer.trends import smoothing

    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(1, 3000)) if trial % 10 == 0 else int(rng.integers(1, 200))
        width = 2 * int(rng.integers(0, min(n, 300) // 2 + 1)) + 1
        x = rng.normal(size=n) if trial % 3 else np.round(rng.normal(size=n), 1)  # ties
        ref = ndimage.median_filter(x, size=width, mode="nearest")
        monkeypatch.setattr(smoothing, "_numpy_spent", 0)
        monkeypatch.delitem(__import__("sys").modules, "scipy.ndimage")
        got = smoothing.median_filter(x, width)
        spent = smoothing._numpy_spent
        monkeypatch.undo()
        # a small window matrix and a wide window (a sorted list slid over the curve) are
        # never scipy's, so they do not count in the budget that imports it (unless the curve
        # holds a zero: then the budgeted window matrix takes them)
        zero = bool((x == 0).any())
        small = n * width <= smoothing._NUMPY_SMALL and not zero
        sorted_window = smoothing._SORTED_WIDTH <= width <= smoothing._SORTED_MAX and not zero
        assert spent == (0 if small or sorted_window else n * width), (n, width)
        assert got.flags.c_contiguous and np.array_equal(got, ref), (n, width)


def test_median_filter_spent_budget_goes_to_scipy(monkeypatch):
    from analyzer.trends import smoothing

    x = np.random.default_rng(8).normal(size=500)
    monkeypatch.setattr(smoothing, "_numpy_spent", smoothing._NUMPY_BUDGET)
    got = smoothing.median_filter(x, 51)
    assert smoothing._numpy_spent == smoothing._NUMPY_BUDGET  # not numpy's any more
    assert "scipy.ndimage" in __import__("sys").modules
    monkeypatch.setattr(smoothing, "_numpy_spent", 0)
    monkeypatch.delitem(__import__("sys").modules, "scipy.ndimage")
    assert np.array_equal(smoothing.median_filter(x, 51), got)


@pytest.mark.parametrize("k", [0, 1, 2, 7, 60, 2100])
@pytest.mark.parametrize("kind", ["normal", "ties", "zeros"])
def test_prefix_medians_are_the_medians_of_the_prefixes(k, kind):
    """Insertion (short edges), heaps (long edges or any zero): each is np.median of the first
    2i + 1 points, and the insertion gives the heaps' numbers bit for bit (among equal zeros
    the heaps may pick another sign than np.median; they always did)."""
    from analyzer.trends import smoothing

    rng = np.random.default_rng(k)
    x = rng.normal(size=2 * k + 3)
    if kind == "ties":
        x = np.round(x, 1) + 5.0  # many equal values, none zero (rounding makes -0.0)
    if kind == "zeros":
        x = np.round(x, 1)
        x[::4] = 0.0
        x[1::8] = -0.0
    got = smoothing._prefix_medians(x, k)
    want = np.array([np.median(x[: 2 * i + 1]) for i in range(k)])
    assert got.shape == (k,) and np.array_equal(got, want)
    assert got.tobytes() == smoothing._heap_prefix_medians(x, k).tobytes()
    if kind != "zeros":
        assert got.tobytes() == want.tobytes()


def test_rolling_medians_share_edges_with_single_windows():
    from analyzer.trends.smoothing import rolling_medians

    rng = np.random.default_rng(3)
    v = rng.normal(size=301)
    v[[5, 50, 290]] = np.nan
    for windows in [(31, 33), (5, 301, 1), (401, 3)]:
        got = rolling_medians(v, windows)
        for w, g in zip(windows, got, strict=True):
            assert g.tobytes() == rolling_median(v, window=w).tobytes()


def _lowess_as_written(x, y, *, window, iterations=2):
    """lowess as it was first written (an index matrix, a new matrix per product, the weights
    clipped at 0): the faster one must give these numbers bit for bit."""
    from analyzer.trends._order import median

    n = x.size
    if n < 3:
        return y.copy()
    k = int(min(max(window, 3), n))
    lo = np.clip(np.arange(n) - k // 2, 0, n - k)
    idx = lo[:, None] + np.arange(k)[None, :]
    d = np.abs(x[idx] - x[:, None])
    h = d.max(axis=1) * 1.0001
    h[h == 0] = 1.0
    w = np.clip(1.0 - (d / h[:, None]) ** 3, 0.0, None) ** 3
    X, Y = x[idx], y[idx]
    rob = np.ones(n)
    fit = y.copy()
    for it in range(iterations + 1):
        W = w * rob[idx]
        sw = W.sum(axis=1)
        ok = sw > 0
        sw[~ok] = 1.0
        mx = (W * X).sum(axis=1) / sw
        my = (W * Y).sum(axis=1) / sw
        dx = X - mx[:, None]
        wdx = W * dx
        sxx = (wdx * dx).sum(axis=1)
        sxy = (wdx * (Y - my[:, None])).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), 0.0)
        fit = np.where(ok, my + beta * (x - mx), y)
        if it == iterations:
            break
        r = y - fit
        s = median(np.abs(r))
        if s <= 0:
            break
        u = r / (6.0 * s)
        rob = np.maximum(np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0), 1e-3)
    return fit


@pytest.mark.parametrize("seed", range(40))
def test_lowess_gives_the_numbers_of_its_plain_form(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400)) if seed % 8 else int(rng.integers(300, 1200))  # both gathers
    x = np.cumsum(rng.choice([0.0, 1.0, 7.5], size=n, p=[0.1, 0.8, 0.1]))  # repeated steps too
    y = np.exp(-x / max(1.0, x[-1] / 3)) + rng.normal(0, 0.05, n)
    if seed % 4 == 0:
        y[rng.integers(0, n, size=max(1, n // 20))] += 5.0  # spikes for the robustness passes
    if seed % 5 == 0:
        y = np.round(y, 1)  # flat stretches: zero residuals
    window = int(rng.integers(1, max(2, n)))
    iterations = int(rng.integers(0, 4))
    got = lowess(x, y, window=window, iterations=iterations)
    want = _lowess_as_written(x, y, window=window, iterations=iterations)
    assert got.tobytes() == want.tobytes()


def test_effective_noise_takes_the_quantum_the_caller_has():
    from analyzer.trends.prep import value_quantum

    v = np.repeat(np.arange(200, 49, -5) / 100.0, 4)  # on a grid of 0.05, each value 4 times
    w = np.log10(v)
    for work, kw in [(v, {}), (w, {"values": v, "log_space": True})]:
        q = value_quantum(v)
        assert q is not None
        assert effective_noise(0.0, work, quantum=q, **kw) == effective_noise(0.0, work, **kw)
        # None: known not quantised, so no floor from a quantum
        assert effective_noise(0.0, work, quantum=None, **kw) < effective_noise(0.0, work, **kw)


@pytest.mark.parametrize("n", [1, 2, 5, 40, 300, 3000])
@pytest.mark.parametrize("width", [1, 3, 7, 31])
def test_median_filter_is_scipys(n, width):
    """Every path of median_filter (small windows, the numpy budget, scipy) gives
    scipy.ndimage.median_filter's numbers with the edges padded by the end values."""
    from scipy import ndimage

    from analyzer.trends import smoothing

    rng = np.random.default_rng(n * width)
    x = np.round(rng.normal(size=n), 1) + 5.0  # ties too (no zeros: see below)
    want = ndimage.median_filter(x, size=width, mode="nearest")
    got = smoothing.median_filter(x, width)
    assert got.tobytes() == want.tobytes()
    h = width // 2
    padded = np.concatenate([np.full(h, x[0]), x, np.full(h, x[-1])])
    by_hand = np.array([np.median(padded[i : i + width]) for i in range(n)])
    assert np.array_equal(got, by_hand)
    x[::3] = -0.0  # equal zeros of either sign: equal numbers (the sign may differ, as always)
    x[1::3] = 0.0
    assert np.array_equal(
        smoothing.median_filter(x, width), ndimage.median_filter(x, size=width, mode="nearest")
    )


@pytest.mark.parametrize(
    "n,width", [(2000, 501), (2000, 503), (300, 65), (70, 65), (64, 65), (5000, 1001)]
)
def test_wide_median_filter_by_a_sorted_window_is_exact(n, width):
    from analyzer.trends.smoothing import _SORTED_WIDTH, _sliding_median, median_filter

    assert width >= _SORTED_WIDTH
    rng = np.random.default_rng(n + width)
    x = rng.normal(size=n)
    x[::7] = x[3]  # ties
    h = width // 2
    padded = np.pad(x, h, mode="edge")
    want = np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)
    np.testing.assert_array_equal(_sliding_median(x, width), want)
    np.testing.assert_array_equal(median_filter(x, width), want)
    # a curve holding a zero takes the window matrix (the sign of a zero is kept as it was)
    x[5] = 0.0
    padded = np.pad(x, h, mode="edge")
    want = np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)
    np.testing.assert_array_equal(median_filter(x, width), want)


def _tricube_as_written(x, X):
    """The tricube weights as first written (every cell cubed): the shared-rows path of
    ``_tricube`` must give these numbers bit for bit."""
    d = np.abs(X - x[:, None])
    h = d.max(axis=1) * 1.0001
    h[h == 0] = 1.0
    return np.clip(1.0 - (d / h[:, None]) ** 3, 0.0, None) ** 3


def _steps_of_kind(kind, n, rng):
    if kind == "even":  # integer steps every 10: equal distance rows away from the ends
        return np.arange(n, dtype=float) * 10.0
    if kind == "even-float":  # a fractional cadence: distances equal only where they round alike
        return np.arange(n) * 0.1 + 3.7
    if kind == "huge":  # steps past 2**53: spacing not representable exactly everywhere
        return 2.0**60 + np.arange(n) * 2048.0
    if kind == "two-cadences":  # every step, then every 7th
        return np.r_[np.arange(n // 2), n // 2 + 7 * np.arange(n - n // 2)].astype(float)
    if kind == "repeats":  # repeated steps (zero distances) inside an even cadence
        return np.sort(np.r_[np.arange(n - n // 10), rng.integers(0, n, n // 10)]).astype(float)
    if kind == "constant":  # one step for every point: every distance 0, h set to 1
        return np.full(n, 5.0)
    return np.cumsum(rng.random(n) + 0.01)  # irregular: rows all differ


@pytest.mark.parametrize(
    "kind", ["even", "even-float", "huge", "two-cadences", "repeats", "constant", "irregular"]
)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 40, 300, 1000])
def test_tricube_shared_rows_are_the_plain_weights(kind, n):
    from analyzer.trends.smoothing import _tricube, _window_starts

    rng = np.random.default_rng(n)
    x = _steps_of_kind(kind, n, rng)
    for window in {3, 5, 21, max(3, n // 12), n}:
        k, lo = _window_starts(n, window)
        X = x[lo[:, None] + np.arange(k)[None, :]]
        got = _tricube(x, X)
        assert got.flags.c_contiguous and got.shape == X.shape
        assert got.tobytes() == _tricube_as_written(x, X).tobytes(), (kind, n, window)


@pytest.mark.parametrize(
    "kind", ["even", "even-float", "huge", "two-cadences", "repeats", "constant"]
)
@pytest.mark.parametrize("n", [3, 7, 60, 350, 1000])
def test_lowess_on_even_cadences_gives_the_numbers_of_its_plain_form(kind, n):
    rng = np.random.default_rng(n + 17)
    x = _steps_of_kind(kind, n, rng)
    y = 2.0 + np.exp(-np.arange(n) / max(1.0, n / 4)) + rng.normal(0, 0.05, n)
    y[rng.integers(0, n, size=max(1, n // 25))] += 4.0  # spikes for the robustness passes
    if kind == "constant":
        y = np.round(y, 1)
    for window in {3, 7, max(3, n // 12), n}:
        for iterations in (0, 2):
            got = lowess(x, y, window=window, iterations=iterations)
            want = _lowess_as_written(x, y, window=window, iterations=iterations)
            assert got.tobytes() == want.tobytes(), (kind, n, window, iterations)
