import dataclasses

import numpy as np
import pytest

from analyzer.trends import (
    bin_medians,
    choose_log_space,
    prepare,
    rel_to_level,
    span_decades,
    value_quantum,
    window_mask,
)


def test_prepare_sorts_and_averages_duplicates():
    p = prepare([3, 1, 2, 2, 1], [30.0, 10.0, 20.0, 22.0, 12.0])
    assert p.steps.tolist() == [1.0, 2.0, 3.0]
    assert p.values.tolist() == [11.0, 21.0, 30.0]
    assert p.n_duplicates == 2
    assert p.n_input == 5
    assert p.first_nonfinite_step is None


def test_prepare_separates_nonfinite_and_reports_where():
    steps = np.arange(10)
    values = np.linspace(2, 1, 10)
    values[6] = np.nan
    values[7] = np.inf
    values[8] = -np.inf
    p = prepare(steps, values)
    assert p.n == 7
    assert p.first_nonfinite_step == 6.0
    assert (p.n_nan, p.n_posinf, p.n_neginf) == (1, 1, 1)
    assert p.finite_after_first_nonfinite == 1  # step 9 is finite again
    assert p.all_steps.size == 10
    assert not p.finite[6:9].any()


def test_duplicate_step_with_one_finite_value_is_finite():
    p = prepare([1, 1, 2], [np.nan, 4.0, 5.0])
    assert p.values.tolist() == [4.0, 5.0]
    assert p.n_nonfinite == 0


def test_prepare_rejects_length_mismatch_and_bad_space():
    with pytest.raises(ValueError):
        prepare([1, 2], [1.0])
    with pytest.raises(ValueError):
        prepare([1, 2], [1.0, 2.0], space="cubic")


def test_prepare_handles_empty_and_nonfinite_steps():
    p = prepare([], [])
    assert p.n == 0 and not p.log_space
    p = prepare([np.nan, 1, 2], [5.0, 1.0, 2.0])
    assert p.steps.tolist() == [1.0, 2.0]


def test_log_space_decision():
    assert choose_log_space(np.logspace(3, -4, 50))
    assert not choose_log_space(np.linspace(2.3, 0.3, 50))  # < 1 decade
    assert not choose_log_space(np.linspace(10, -1, 50))  # not positive
    assert span_decades(np.logspace(2, -2, 101)) == pytest.approx(4 * 0.98, rel=0.01)
    assert np.isnan(span_decades([1.0, 0.0, 2.0]))
    p = prepare(np.arange(50), np.logspace(3, -4, 50))
    assert p.log_space
    assert np.allclose(p.work, np.log10(p.values))
    assert prepare(np.arange(50), np.logspace(3, -4, 50), space="linear").log_space is False
    # forced log space falls back to linear for non-positive values
    assert prepare([1, 2, 3], [1.0, 0.0, 2.0], space="log").log_space is False


def test_to_work_from_work_round_trip():
    p = prepare(np.arange(50), np.logspace(3, -4, 50))
    assert p.from_work(p.to_work(123.0)) == pytest.approx(123.0)


def test_bin_medians_is_deterministic_and_bounded():
    s = np.arange(100_001, dtype=float)
    v = np.sin(s / 1000)
    v[::97] += 100.0  # spikes must not survive the medians
    bs, bv, starts = bin_medians(s, v, max_points=1000)
    assert bs.size <= 1000
    assert np.all(np.diff(bs) > 0)
    assert np.max(bv) < 1.5
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)
    bs2, bv2, _ = bin_medians(s, v, max_points=1000)
    assert np.array_equal(bv, bv2)
    short = bin_medians(s[:10], v[:10], max_points=1000)
    assert np.array_equal(short[1], v[:10])


def test_value_quantum():
    rng = np.random.default_rng(0)
    v = np.round(0.12 + rng.normal(0, 0.004, 200), 2)
    assert value_quantum(v) == pytest.approx(0.01)
    assert value_quantum(rng.normal(0, 1, 200)) is None
    assert value_quantum(np.full(20, 0.5)) is None


def test_rel_to_level_scale_free():
    assert rel_to_level(0.1, 2.0, False) == pytest.approx(0.05)
    assert rel_to_level(0.1e6, 2.0e6, False) == pytest.approx(0.05)
    assert rel_to_level(np.log10(1.5), -3.0, True) == pytest.approx(0.5)
    assert np.isnan(rel_to_level(1.0, 0.0, False))


def test_window_mask():
    s = np.arange(0, 101, dtype=float)
    assert window_mask(s, last_fraction=0.2).sum() == 21
    assert window_mask(s, start=10, end=19).sum() == 10
    with pytest.raises(ValueError):
        window_mask(s, last_fraction=0.0)


def test_distinct_finite_steps_group_as_the_general_path():
    """prepare's shortcut for distinct steps with finite values gives the general grouping's
    arrays exactly (the sign of a zero included)."""
    from analyzer.trends.prep import _distinct_finite, _group_steps

    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 300))
        s = np.cumsum(rng.integers(1, 5, size=n)).astype(float)
        v = rng.normal(size=n) * 10.0 ** rng.integers(-8, 8)
        v[rng.random(n) < 0.1] = -0.0
        v[rng.random(n) < 0.1] = 0.0
        fast = _distinct_finite(s, v)
        slow = _group_steps(s, v, np.isfinite(v))
        for a, b in zip(fast, slow, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)
            if a.dtype.kind == "f":
                assert np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("space", ["auto", "log", "linear"])
def test_a_clean_curve_is_prepared_as_the_same_curve_shuffled(seed, space):
    """Sorted distinct steps and finite values take a short way through prepare(); shuffled,
    the same points take the long one (sort, group): every field must be the same, bit for
    bit (a -0.0 value becomes 0.0 both ways)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    s = np.cumsum(rng.uniform(0.5, 3.0, n)).round(1 if seed % 2 else 6)
    s = np.unique(s)
    n = s.size
    v = np.exp(rng.normal(0, 1 + seed % 3, n)) * (1 if seed % 4 else -1)
    v[:: max(1, n // 5)] = -0.0 if seed % 3 == 0 else v[:: max(1, n // 5)]
    order = rng.permutation(n)
    if n > 1 and (order == np.arange(n)).all():
        order = order[::-1]
    fast = prepare(s, v, space=space)
    slow = prepare(s[order], v[order], space=space)
    for f in dataclasses.fields(fast):
        a, b = getattr(fast, f.name), getattr(slow, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f.name
        else:
            assert a == b or (a != a and b != b), f.name
