"""Trend statistics on (step, value) arrays: pure numpy/scipy functions.

Every public function takes raw ``steps, values`` arrays (any order, duplicates, NaN/inf allowed),
cleans them with :func:`prepare`, and returns plain numbers or a small frozen dataclass. Results
that cannot be computed honestly (too few points, constant input) come back with
``insufficient=True`` and a ``reason`` instead of raising. Positive curves spanning more than a
decade are analysed in log10 space unless ``space`` says otherwise; every result says which
(``log_space``) and offers scale-free ``*_rel_*`` numbers.
"""

from .asymptote import AsymptoteFit, fit_asymptote
from .cadence import epoch_level, epoch_means
from .extremum import (
    LevelShift,
    OffScale,
    blowup_onset,
    collapsed,
    diverged_at,
    frozen_after_rise,
    level_shift,
    risen_from_start,
    val_off_scale,
)
from .levels import Levels, Tail, final_at_chance, flat_since, summarize, tail
from .oscillation import (
    CadenceSwings,
    Oscillation,
    SwingEpisode,
    Swings,
    alternations,
    bounce,
    cadence_swings,
    gls_power,
    median_trend,
    oscillation,
    rel_scale,
    sampling_noise,
    swing_episode,
    swings,
    white_sigma,
)
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
from .slope import SlopeResult, TrendTest, robust_slope, slope_of, trend_from_arrays, trend_test
from .smoothing import (
    auto_window,
    effective_noise,
    lowess,
    lowess_variance_factor,
    mad_sigma,
    noise_scale,
    robust_smooth,
    rolling_median,
)

__all__ = [
    "AsymptoteFit",
    "CadenceSwings",
    "LevelShift",
    "Levels",
    "OffScale",
    "Oscillation",
    "Prepared",
    "SlopeResult",
    "SwingEpisode",
    "Swings",
    "Tail",
    "TrendTest",
    "alternations",
    "collapsed",
    "auto_window",
    "bin_medians",
    "blowup_onset",
    "diverged_at",
    "frozen_after_rise",
    "bounce",
    "cadence_swings",
    "choose_log_space",
    "effective_noise",
    "epoch_level",
    "epoch_means",
    "final_at_chance",
    "fit_asymptote",
    "flat_since",
    "gls_power",
    "level_shift",
    "risen_from_start",
    "lowess",
    "lowess_variance_factor",
    "mad_sigma",
    "median_trend",
    "noise_scale",
    "oscillation",
    "prepare",
    "rel_scale",
    "rel_to_level",
    "robust_slope",
    "robust_smooth",
    "rolling_median",
    "sampling_noise",
    "slope_of",
    "span_decades",
    "summarize",
    "swing_episode",
    "swings",
    "tail",
    "trend_from_arrays",
    "trend_test",
    "val_off_scale",
    "value_quantum",
    "white_sigma",
    "window_mask",
]
