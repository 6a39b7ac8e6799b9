"""Trend statistics on (step, value) arrays: pure numpy/scipy functions.

Every public function takes raw ``steps, values`` arrays (any order, duplicates, NaN/inf allowed),
cleans them with :func:`prepare`, and returns plain numbers or a small frozen dataclass. Results
that cannot be computed honestly (too few points, constant input) come back with
``insufficient=True`` and a ``reason`` instead of raising. Positive curves spanning more than a
decade are analysed in log10 space unless ``space`` says otherwise; every result says which
(``log_space``) and offers scale-free ``*_rel_*`` numbers.
"""

from .asymptote import AsymptoteFit, fit_asymptote
from .changepoint import ChangePoints, Segment, change_points, pelt
from .extremum import BestPoint, LevelShift, best_point, blowup_onset, level_shift
from .gap import GapTrend, generalization_gap
from .oscillation import (
    CadenceSwings,
    Oscillation,
    Spike,
    Spikes,
    SwingEpisode,
    cadence_swings,
    detect_spikes,
    gls_power,
    oscillation,
    spike_period,
    swing_episode,
)
from .plateau import PlateauEvidence, plateau_evidence
from .prep import (
    Prepared,
    bin_medians,
    choose_log_space,
    prepare,
    rel_to_level,
    span_decades,
    value_quantum,
    window_mask,
)
from .slope import SlopeResult, TrendTest, robust_slope, slope_of, trend_test
from .smoothing import (
    auto_window,
    effective_noise,
    ema,
    lowess,
    lowess_variance_factor,
    mad_sigma,
    noise_scale,
    robust_smooth,
    rolling_median,
)

__all__ = [
    "AsymptoteFit",
    "BestPoint",
    "CadenceSwings",
    "ChangePoints",
    "GapTrend",
    "LevelShift",
    "Oscillation",
    "PlateauEvidence",
    "Prepared",
    "Segment",
    "SlopeResult",
    "Spike",
    "Spikes",
    "TrendTest",
    "auto_window",
    "best_point",
    "bin_medians",
    "blowup_onset",
    "cadence_swings",
    "change_points",
    "choose_log_space",
    "detect_spikes",
    "effective_noise",
    "ema",
    "fit_asymptote",
    "generalization_gap",
    "level_shift",
    "gls_power",
    "lowess",
    "lowess_variance_factor",
    "mad_sigma",
    "noise_scale",
    "oscillation",
    "swing_episode",
    "SwingEpisode",
    "pelt",
    "plateau_evidence",
    "prepare",
    "rel_to_level",
    "robust_slope",
    "robust_smooth",
    "rolling_median",
    "slope_of",
    "span_decades",
    "spike_period",
    "trend_test",
    "value_quantum",
    "window_mask",
]
