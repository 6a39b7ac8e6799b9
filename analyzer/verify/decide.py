"""Decide whether a remedy helped: pure numbers in, a verdict with its uncertainty out.

No TensorFlow here: the runner turns each training run into a :class:`RunOutcome` (its curves, the
validation loss of the weights it ended with, the problem kinds the engine found) and this module
compares a remedy's runs with the baseline's runs *seed by seed*. Decisions are paired because the
seed fixes the initial weights and the data order: the difference within a seed is the remedy's
effect, the spread across seeds is the noise it has to beat.

The verdicts:

``resolved``
    the baseline showed the diagnosed problem kind (in most seeds), no remedied run shows it, and the
    validation loss is not worse.
``improved``
    the validation loss is lower in at least 75% of the seeds and lower on average by at least
    ``min_effect`` (relative), or the problem appears in fewer seeds without the loss getting worse.
``worse``
    the validation loss is higher in at least 75% of the seeds and higher on average by at least
    ``min_effect``, or the remedy makes training diverge where the baseline did not.
``no effect``
    anything else: the differences are within the seed-to-seed noise.
``inconclusive``
    no pair of complete runs to compare (e.g. the time budget ran out).

Uncertainty: the mean paired log-ratio of the losses, with a Student-t 95% interval when there are
at least three pairs, and a one-sided sign test. With two seeds no test can be significant (the
smallest sign-test p value is 0.25); the report says so instead of pretending.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VERDICTS = ("resolved", "improved", "no effect", "worse", "inconclusive")
METRICS = ("end", "best")
AGREE = 0.75  # share of seeds that must agree on the direction
TIE = 1e-9  # log-ratio below which a pair counts as a tie


@dataclass(frozen=True)
class RunOutcome:
    """One finished (or cut short) training run of one arm and one seed.

    ``end_val_loss`` is the validation loss of the weights the run ended with: the last epoch's
    weights, or the restored best ones when the arm used ``restore_best_weights``. ``kinds`` are the
    problem kinds curvelint's engine found at severity warning or above.
    """

    arm: str
    seed: int
    val_loss: tuple[float, ...] = ()
    train_loss: tuple[float, ...] = ()
    end_val_loss: float = math.nan
    kinds: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    epochs_run: int = 0
    seconds: float = 0.0
    complete: bool = True
    log_dir: str = ""

    @property
    def best_val_loss(self) -> float:
        """Lowest finite validation loss over the epochs; inf when none is finite."""
        v = np.asarray(self.val_loss, dtype=float)
        v = v[np.isfinite(v)]
        return float(v.min()) if v.size else math.inf

    @property
    def diverged(self) -> bool:
        return "divergence" in self.kinds or not math.isfinite(self.metric("end"))

    def metric(self, name: str) -> float:
        """The run's score under ``name`` ("end" or "best"); non-finite means it blew up."""
        if name == "best":
            return self.best_val_loss
        if name == "end":
            x = self.end_val_loss
            if not math.isfinite(x):
                v = np.asarray(self.val_loss, dtype=float)
                x = float(v[-1]) if v.size else math.inf
            return x if math.isfinite(x) else math.inf
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "seed": self.seed,
            "val_loss": [_num(x) for x in self.val_loss],
            "train_loss": [_num(x) for x in self.train_loss],
            "end_val_loss": _num(self.end_val_loss),
            "best_val_loss": _num(self.best_val_loss),
            "kinds": list(self.kinds),
            "codes": list(self.codes),
            "epochs_run": self.epochs_run,
            "seconds": round(self.seconds, 3),
            "complete": self.complete,
            "log_dir": self.log_dir,
        }


def _num(x: float) -> float | str:
    x = float(x)
    if math.isfinite(x):
        return float(f"{x:.6g}")
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


@dataclass(frozen=True)
class Verdict:
    """The decision on one remedy against the baseline, with the numbers behind it."""

    remedy: str
    verdict: str
    reason: str
    metric: str
    n_pairs: int
    baseline_mean: float
    baseline_std: float
    remedy_mean: float
    remedy_std: float
    rel_change: float  # exp(mean paired log-ratio) - 1: -0.2 is 20% lower loss
    ci_low: float | None  # 95% interval of rel_change (t over pairs), None below 3 pairs
    ci_high: float | None
    wins: int  # seeds where the remedy's loss is lower
    losses: int
    sign_p: float  # one-sided sign test: P(at least `wins` wins | no effect)
    target_kind: str | None
    baseline_kind_rate: float | None  # share of baseline seeds showing target_kind
    remedy_kind_rate: float | None
    new_kinds: tuple[str, ...] = ()
    control: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def helped(self) -> bool:
        return self.verdict in ("resolved", "improved")

    def to_dict(self) -> dict[str, Any]:
        def n(x):
            return None if x is None else _num(x)

        return {
            "remedy": self.remedy,
            "verdict": self.verdict,
            "reason": self.reason,
            "metric": self.metric,
            "n_pairs": self.n_pairs,
            "baseline_mean": n(self.baseline_mean),
            "baseline_std": n(self.baseline_std),
            "remedy_mean": n(self.remedy_mean),
            "remedy_std": n(self.remedy_std),
            "rel_change": n(self.rel_change),
            "ci95": None if self.ci_low is None else [n(self.ci_low), n(self.ci_high)],
            "wins": self.wins,
            "losses": self.losses,
            "sign_p": n(self.sign_p),
            "target_kind": self.target_kind,
            "baseline_kind_rate": n(self.baseline_kind_rate),
            "remedy_kind_rate": n(self.remedy_kind_rate),
            "new_kinds": list(self.new_kinds),
            "control": self.control,
            "notes": list(self.notes),
        }


def sign_test_p(wins: int, n: int) -> float:
    """One-sided sign test: probability of ``wins`` or more successes in ``n`` fair coin flips."""
    if n <= 0:
        return 1.0
    return float(sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n)


def _mean_std(x: np.ndarray) -> tuple[float, float]:
    fin = x[np.isfinite(x)]
    if not fin.size:
        return math.inf, math.nan
    return float(fin.mean()), float(fin.std(ddof=1)) if fin.size > 1 else 0.0


def _kind_rate(runs: Sequence[RunOutcome], kind: str | None) -> float | None:
    if kind is None or not runs:
        return None
    return sum(kind in r.kinds for r in runs) / len(runs)


def pair_runs(
    baseline: Sequence[RunOutcome], remedy: Sequence[RunOutcome]
) -> list[tuple[RunOutcome, RunOutcome]]:
    """Baseline and remedy runs with the same seed, both complete, in seed order."""
    base = {r.seed: r for r in baseline if r.complete}
    pairs = [(base[r.seed], r) for r in remedy if r.complete and r.seed in base]
    return sorted(pairs, key=lambda p: p[0].seed)


def decide(
    baseline: Sequence[RunOutcome],
    remedy: Sequence[RunOutcome],
    *,
    remedy_id: str,
    target_kind: str | None = None,
    metric: str = "end",
    min_effect: float = 0.02,
    control: bool = False,
) -> Verdict:
    """Compare a remedy's runs with the baseline's, seed by seed, and say whether it helped.

    ``target_kind`` is the kind of the diagnosed problem ("overfitting", "oscillation", ...);
    ``metric`` is "end" (validation loss of the weights training ends with: what the user gets)
    or "best" (lowest validation loss seen); ``min_effect`` is the smallest relative change in
    the loss that counts as an effect.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    if min_effect < 0:
        raise ValueError("min_effect must be >= 0")
    pairs = pair_runs(baseline, remedy)
    n = len(pairs)
    base_runs = [b for b, _ in pairs]
    rem_runs = [r for _, r in pairs]
    b = np.array([p.metric(metric) for p in base_runs], dtype=float)
    r = np.array([p.metric(metric) for p in rem_runs], dtype=float)
    b_mean, b_std = _mean_std(b)
    r_mean, r_std = _mean_std(r)
    notes: list[str] = []
    common: dict[str, Any] = dict(
        remedy=remedy_id,
        metric=metric,
        n_pairs=n,
        baseline_mean=b_mean,
        baseline_std=b_std,
        remedy_mean=r_mean,
        remedy_std=r_std,
        target_kind=target_kind,
        control=control,
    )
    if n == 0:
        return Verdict(
            verdict="inconclusive",
            reason="no baseline/remedy pair of complete runs with the same seed to compare",
            rel_change=math.nan,
            ci_low=None,
            ci_high=None,
            wins=0,
            losses=0,
            sign_p=1.0,
            baseline_kind_rate=_kind_rate(baseline, target_kind),
            remedy_kind_rate=_kind_rate(remedy, target_kind),
            **common,
        )

    # Effect size on the log scale; a run that blew up counts as twice the worst finite loss
    # seen in any epoch of any compared run.
    seen = [np.asarray(p.val_loss, dtype=float) for p in base_runs + rem_runs] + [b, r]
    finite = np.concatenate([x[np.isfinite(x)] for x in seen])
    cap = 2.0 * float(finite.max()) if finite.size else 1.0
    if not np.all(np.isfinite(b)) or not np.all(np.isfinite(r)):
        notes.append(
            "a run without a finite validation loss counts as twice the worst finite "
            "validation loss seen in any run"
        )
    bc = np.where(np.isfinite(b), b, cap)
    rc = np.where(np.isfinite(r), r, cap)
    d = np.log(np.maximum(rc, 1e-12)) - np.log(np.maximum(bc, 1e-12))
    mean_d = float(d.mean())
    rel = math.expm1(mean_d)
    ci_low = ci_high = None
    if n >= 3:
        from scipy import stats

        se = float(d.std(ddof=1)) / math.sqrt(n)
        half = float(stats.t.ppf(0.975, n - 1)) * se
        ci_low, ci_high = math.expm1(mean_d - half), math.expm1(mean_d + half)
    wins = int(np.sum(d < -TIE))
    losses = int(np.sum(d > TIE))
    sign_p = sign_test_p(wins, n)
    if n < 3:
        notes.append(
            f"{n} seed(s): the direction can agree across seeds, but no test can be "
            f"significant (smallest sign-test p with {n} seeds is {sign_test_p(n, n):.2g})"
        )

    b_rate = _kind_rate(base_runs, target_kind)
    r_rate = _kind_rate(rem_runs, target_kind)
    base_kinds = {k for p in base_runs for k in p.kinds}
    new_kinds = tuple(sorted({k for p in rem_runs for k in p.kinds} - base_kinds))
    need = math.ceil(AGREE * n)
    better = wins >= need and rel <= -min_effect
    worse_loss = losses >= need and rel >= min_effect
    n_base_div = sum(p.diverged for p in base_runs)
    n_rem_div = sum(p.diverged for p in rem_runs)
    newly_diverged = n_rem_div > n_base_div

    pct = f"{abs(rel):.0%} {'lower' if rel < 0 else 'higher'}"
    loss_txt = f"{metric} val loss {b_mean:.4g} -> {r_mean:.4g} ({pct}; {wins}/{n} seeds lower)"
    if newly_diverged:
        verdict = "worse"
        reason = (
            f"training diverged in {n_rem_div}/{n} seeds (baseline: {n_base_div}/{n}); {loss_txt}"
        )
    elif worse_loss:
        verdict = "worse"
        reason = loss_txt
        if target_kind and b_rate and r_rate == 0:
            reason += f"; the {target_kind} is gone but the loss is worse"
    elif target_kind and b_rate is not None and b_rate >= 0.5 and r_rate == 0:
        verdict = "resolved"
        reason = f"{target_kind} gone in {n}/{n} seeds (baseline: {b_rate:.0%}); {loss_txt}"
    elif better:
        verdict = "improved"
        reason = loss_txt
        if target_kind and b_rate:
            reason += f"; {target_kind} still found in {r_rate:.0%} of seeds"
    elif target_kind and b_rate and r_rate is not None and r_rate < b_rate and rel <= 0:
        verdict = "improved"
        reason = f"{target_kind} in {r_rate:.0%} of seeds instead of {b_rate:.0%}; {loss_txt}"
    else:
        verdict = "no effect"
        reason = f"within seed-to-seed noise: {loss_txt}"
    if target_kind and b_rate is not None and b_rate < 0.5:
        notes.append(
            f"the baseline showed {target_kind} in only {b_rate:.0%} of seeds: "
            "the diagnosis itself does not reproduce well"
        )
    if new_kinds:
        notes.append(f"new problem kinds after the remedy: {', '.join(new_kinds)}")
    return Verdict(
        verdict=verdict,
        reason=reason,
        rel_change=rel,
        ci_low=ci_low,
        ci_high=ci_high,
        wins=wins,
        losses=losses,
        sign_p=sign_p,
        baseline_kind_rate=b_rate,
        remedy_kind_rate=r_rate,
        new_kinds=new_kinds,
        notes=tuple(notes),
        **common,
    )


def pick_target(worst_kinds: Sequence[str | None]) -> str | None:
    """The problem kind to verify against: the most common worst kind over the baseline seeds
    (ties go to the earliest seed's), or None when no seed had a problem."""
    votes = [k for k in worst_kinds if k]
    if not votes:
        return None
    return max(votes, key=lambda k: (votes.count(k), -votes.index(k)))
