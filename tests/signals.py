"""Seeded synthetic training curves that come with their ground truth (test support: the tests
build their inputs from these; the analyzer never imports them).

Like ``ruptures.pw_constant``, every generator returns the curve *together with* what is true about
it, so tests can assert that the statistics recover it. All generators are deterministic for a
given ``seed`` and take explicit keyword parameters. ``steps`` are float arrays (epochs count from
1, iterations from 0); ``truth`` is a plain dict whose keys are documented per generator.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np

Per = Literal["epoch", "iteration"]


class Signal(NamedTuple):
    """A synthetic curve: ``steps, values, truth = signal``."""

    steps: np.ndarray
    values: np.ndarray
    truth: dict[str, Any]


class PairSignal(NamedTuple):
    """A synthetic train/validation pair on different step grids."""

    train_steps: np.ndarray
    train_values: np.ndarray
    val_steps: np.ndarray
    val_values: np.ndarray
    truth: dict[str, Any]


def _steps(n: int, per: Per) -> np.ndarray:
    return np.arange(1, n + 1, dtype=float) if per == "epoch" else np.arange(n, dtype=float)


def exp_decay(
    *,
    n: int = 100,
    start: float = 2.3,
    asymptote: float = 0.3,
    tau_fraction: float = 0.15,
    noise: float = 0.01,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Exponential decay ``asymptote + (start - asymptote) * exp(-(t - t0) / tau)`` plus noise.

    ``tau = tau_fraction * span``; Gaussian noise with ``sigma = noise * asymptote``. Use
    ``per="iteration", n=5000, noise=0.05`` for a per-iteration curve.
    Truth: ``asymptote``, ``start``, ``tau`` (steps), ``sigma``, ``final_value`` (noise-free).
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    tau = tau_fraction * (t[-1] - t[0])
    clean = asymptote + (start - asymptote) * np.exp(-(t - t[0]) / tau)
    sigma = noise * asymptote
    v = clean + rng.normal(0.0, sigma, n)
    return Signal(
        t,
        v,
        {
            "asymptote": asymptote,
            "start": start,
            "tau": tau,
            "sigma": sigma,
            "final_value": float(clean[-1]),
        },
    )


def flat(
    *, n: int = 100, level: float = 1.0, noise: float = 0.01, per: Per = "epoch", seed: int = 0
) -> Signal:
    """A curve with no trend at all: ``level`` plus Gaussian noise ``sigma = noise * level``.

    Truth: ``level``, ``sigma``, ``slope`` (0).
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    sigma = noise * abs(level)
    return Signal(
        t, level + rng.normal(0.0, sigma, n), {"level": level, "sigma": sigma, "slope": 0.0}
    )


def linear_trend(
    *,
    n: int = 100,
    intercept: float = 1.0,
    slope: float = -0.001,
    noise: float = 0.01,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """A straight line with Gaussian noise (``sigma = noise``, absolute). Truth: ``slope``,
    ``intercept``, ``sigma``."""
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    return Signal(
        t,
        intercept + slope * t + rng.normal(0.0, noise, n),
        {"slope": slope, "intercept": intercept, "sigma": noise},
    )


def early_plateau(
    *,
    n: int = 100,
    start: float = 2.3,
    level: float = 1.8,
    onset_fraction: float = 0.1,
    noise: float = 0.003,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Fast decay that stalls early at a high ``level`` (e.g. a too-small learning rate or a dead
    network). The decay's time constant is ``onset_fraction * span / 5``, so by the onset step the
    curve is within 1% of its drop from ``level``.

    Truth: ``level``, ``onset_step``, ``sigma`` (absolute).
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    span = t[-1] - t[0]
    tau = onset_fraction * span / 5.0
    clean = level + (start - level) * np.exp(-(t - t[0]) / tau)
    sigma = noise * level
    return Signal(
        t,
        clean + rng.normal(0.0, sigma, n),
        {"level": level, "onset_step": float(t[0] + onset_fraction * span), "sigma": sigma},
    )


def lr_step_decay(
    *,
    n: int = 300,
    start: float = 2.3,
    level1: float = 1.0,
    level2: float = 0.5,
    drop_fraction: float = 0.5,
    tau_fraction: float = 0.08,
    noise: float = 0.01,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Decay to a first plateau ``level1``, then a step learning-rate drop at ``drop_step``
    takes the curve within a couple of steps down to ``level2``.

    Truth: ``drop_step``, ``level1``, ``level2``, ``jump`` (level2 - level1), ``sigma``.
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    span = t[-1] - t[0]
    s = t[int(round(drop_fraction * (n - 1)))]
    clean = level1 + (start - level1) * np.exp(-(t - t[0]) / (tau_fraction * span))
    at_s = level1 + (start - level1) * np.exp(-(s - t[0]) / (tau_fraction * span))
    after = t >= s
    clean[after] = level2 + (at_s - level2) * np.exp(-(t[after] - s) / 1.0)
    sigma = noise * level2
    return Signal(
        t,
        clean + rng.normal(0.0, sigma, n),
        {
            "drop_step": float(s),
            "level1": level1,
            "level2": level2,
            "jump": level2 - level1,
            "sigma": sigma,
        },
    )


def oscillating_decay(
    *,
    n: int = 400,
    start: float = 2.3,
    asymptote: float = 0.5,
    tau_fraction: float = 0.15,
    period: float = 40.0,
    amplitude: float = 0.1,
    noise: float = 0.01,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Exponential decay plus a sustained sinusoid of ``period`` steps and semi-amplitude
    ``amplitude`` (absolute), plus Gaussian noise ``sigma = noise`` (absolute).

    Truth: ``period``, ``amplitude``, ``asymptote``, ``sigma``.
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    tau = tau_fraction * (t[-1] - t[0])
    clean = asymptote + (start - asymptote) * np.exp(-(t - t[0]) / tau)
    phase = rng.uniform(0, 2 * np.pi)
    v = clean + amplitude * np.sin(2 * np.pi * t / period + phase) + rng.normal(0, noise, n)
    return Signal(
        t, v, {"period": period, "amplitude": amplitude, "asymptote": asymptote, "sigma": noise}
    )


def epoch_spikes(
    *,
    epochs: int = 10,
    steps_per_epoch: int = 200,
    start: float = 2.3,
    asymptote: float = 0.4,
    spike_height: float = 0.6,
    noise: float = 0.01,
    seed: int = 0,
) -> Signal:
    """Per-iteration decay with a one-iteration spike at the start of every epoch after the first
    (e.g. an unshuffled data loader or a metric reset), each recovering at once.

    Truth: ``spike_steps`` (list), ``period`` (= steps_per_epoch), ``spike_height`` (absolute),
    ``sigma``.
    """
    rng = np.random.default_rng(seed)
    n = epochs * steps_per_epoch
    t = np.arange(n, dtype=float)
    clean = asymptote + (start - asymptote) * np.exp(-t / (0.15 * n))
    v = clean + rng.normal(0, noise, n)
    spikes = [float(e * steps_per_epoch) for e in range(1, epochs)]
    v[np.array(spikes, dtype=int)] += spike_height
    return Signal(
        t,
        v,
        {
            "spike_steps": spikes,
            "period": float(steps_per_epoch),
            "spike_height": spike_height,
            "sigma": noise,
        },
    )


def _val_clean(
    t: np.ndarray, floor: float, start: float, min_fraction: float, tau_fraction: float
) -> np.ndarray:
    """Noise-free U-shaped validation loss ``floor + b*exp(-t/tau) + g*t`` on grid ``t``."""
    span = t[-1] - t[0]
    tau = tau_fraction * span
    b = start - floor
    t_star = t[0] + min_fraction * span
    g = (b / tau) * np.exp(-(t_star - t[0]) / tau)
    return floor + b * np.exp(-(t - t[0]) / tau) + g * (t - t[0])


def overfitting_val(
    *,
    n: int = 30,
    floor: float = 0.4,
    start: float = 2.0,
    min_fraction: float = 0.4,
    tau_fraction: float = 0.12,
    noise: float = 0.005,
    seed: int = 0,
) -> Signal:
    """Per-epoch validation loss with a U shape: ``floor + b*exp(-t/tau) + g*t``.

    ``g`` is chosen so the noise-free minimum falls at ``min_fraction`` of the run. Gaussian noise
    ``sigma = noise`` (absolute). Truth: ``best_step`` (epoch of the noise-free minimum),
    ``best_value``, ``rise`` (final minus best, noise-free), ``sigma``.
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, "epoch")
    clean = _val_clean(t, floor, start, min_fraction, tau_fraction)
    i = int(np.argmin(clean))
    return Signal(
        t,
        clean + rng.normal(0, noise, n),
        {
            "best_step": float(t[i]),
            "best_value": float(clean[i]),
            "rise": float(clean[-1] - clean[i]),
            "sigma": noise,
        },
    )


def overfitting_pair(
    *,
    epochs: int = 40,
    steps_per_epoch: int = 50,
    floor: float = 0.4,
    start: float = 2.0,
    min_fraction: float = 0.35,
    noise: float = 0.005,
    train_noise: float = 0.05,
    seed: int = 0,
) -> PairSignal:
    """Per-iteration training loss that keeps falling, with per-epoch validation loss that turns
    up (see :func:`overfitting_val`). Validation steps are the iteration count at each epoch end.
    Training noise is multiplicative (``train_noise``), validation noise absolute (``noise``).

    Truth: ``best_step`` (iteration of the val minimum), ``gap`` (noise-free val - train at the
    validation steps), ``gap_slope`` (least-squares slope of that gap over the second half, per
    iteration), ``final_gap``.
    """
    rng = np.random.default_rng(seed)
    val = overfitting_val(
        n=epochs, floor=floor, start=start, min_fraction=min_fraction, noise=noise, seed=seed
    )
    n_it = epochs * steps_per_epoch
    t_it = np.arange(n_it, dtype=float)
    tau = 0.12 * n_it
    low = 0.6 * floor

    def train_clean(s: np.ndarray) -> np.ndarray:
        return low + (start - low) * np.exp(-s / tau)

    train = train_clean(t_it) * (1 + rng.normal(0, train_noise, n_it))
    val_steps = val.steps * steps_per_epoch
    gap = _val_clean(val.steps, floor, start, min_fraction, 0.12) - train_clean(val_steps)
    half = val_steps >= val_steps[len(val_steps) // 2]
    slope = float(np.polyfit(val_steps[half], gap[half], 1)[0])
    return PairSignal(
        t_it,
        train,
        val_steps,
        val.values,
        {
            "best_step": val.truth["best_step"] * steps_per_epoch,
            "gap": gap,
            "gap_slope": slope,
            "final_gap": float(gap[-1]),
        },
    )


def divergence(
    *,
    n: int = 200,
    start: float = 2.3,
    asymptote: float = 0.5,
    onset_fraction: float = 0.6,
    growth_steps: float = 5.0,
    nan_fraction: float = 0.8,
    noise: float = 0.01,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Training that decays, then blows up exponentially (e-folding ``growth_steps``) from
    ``onset_step`` and becomes NaN from ``first_nan_step`` on.

    Truth: ``onset_step``, ``first_nan_step``, ``sigma``.
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    span = t[-1] - t[0]
    clean = asymptote + (start - asymptote) * np.exp(-(t - t[0]) / (0.15 * span))
    onset = t[int(round(onset_fraction * (n - 1)))]
    nan_at = t[int(round(nan_fraction * (n - 1)))]
    grow = t > onset
    with np.errstate(over="ignore"):
        clean[grow] = clean[grow] * np.exp((t[grow] - onset) / growth_steps)
    v = clean + rng.normal(0, noise * asymptote, n)
    v[t >= nan_at] = np.nan
    return Signal(
        t,
        v,
        {"onset_step": float(onset), "first_nan_step": float(nan_at), "sigma": noise * asymptote},
    )


def quantized(
    *,
    n: int = 200,
    level: float = 0.12,
    decimals: int = 2,
    noise: float = 0.002,
    drop: float = 0.0,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Values rounded to ``decimals`` places (a logger printing ``0.12``), around ``level`` with
    Gaussian ``noise`` (absolute) and an optional linear ``drop`` over the run.

    Truth: ``level``, ``quantum`` (10**-decimals), ``sigma``.
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    frac = (t - t[0]) / (t[-1] - t[0])
    v = np.round(level - drop * frac + rng.normal(0, noise, n), decimals)
    return Signal(t, v, {"level": level, "quantum": 10.0**-decimals, "sigma": noise})


def wide_range_decay(
    *,
    n: int = 300,
    start: float = 1e3,
    end: float = 1e-4,
    noise: float = 0.05,
    per: Per = "epoch",
    seed: int = 0,
) -> Signal:
    """Log-linear decay from ``start`` to ``end`` (many decades) with multiplicative noise
    ``exp(N(0, noise))``. Still improving at a constant rate in log space: no floor in sight.

    Truth: ``decades``, ``slope_log10`` (decades per step), ``start``, ``end``.
    """
    rng = np.random.default_rng(seed)
    t = _steps(n, per)
    frac = (t - t[0]) / (t[-1] - t[0])
    logv = np.log10(start) + (np.log10(end) - np.log10(start)) * frac
    v = np.power(10.0, logv) * np.exp(rng.normal(0, noise, n))
    return Signal(
        t,
        v,
        {
            "decades": float(np.log10(start / end)),
            "slope_log10": float((np.log10(end) - np.log10(start)) / (t[-1] - t[0])),
            "start": start,
            "end": end,
        },
    )
