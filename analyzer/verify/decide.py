"""Decide whether a remedy helped: pure numbers in, a verdict with its uncertainty out.

No TensorFlow here: the runner turns each training run into a :class:`RunOutcome` (its curves, the
loss of the weights it ended with on held-out data, the problem kinds the engine found) and this
module compares a remedy's runs with the baseline's runs *seed by seed*. Decisions are paired
because the seed fixes the initial weights and the data order: the difference within a seed is the
remedy's effect, the spread across seeds is the noise it has to beat.

The effect size is the geometric mean of the per-seed loss ratios remedy/baseline, minus 1
(``rel_change``; -0.2 is a 20% lower loss), with a Student-t 95% interval over the per-seed
log-ratios from 2 pairs on (wide with 2 or 3 pairs: t has 1 or 2 degrees of freedom), and a
one-sided sign test. The verdicts, each stated with the rule and the numbers that decided it:

``not applied``
    every remedied run has the same curves as the baseline of its seed, to within 0.01% in every
    epoch: the change did not reach training (or never acted).
``resolved``
    the baseline showed the diagnosed problem kind in more than half of its seeds, no remedied run
    shows it, the loss is not shown to be worse (see ``worse``) and not higher by ``min_effect``.
``improved``
    the loss is lower in at least 75% of the seeds, lower by at least ``min_effect`` (geometric
    mean), and the 95% interval of the change lies below 0; or the problem appears in fewer seeds
    without the loss getting higher.
``worse``
    the loss is higher in at least 75% of the seeds, higher by at least ``min_effect``, and the 95%
    interval lies above 0; or the remedy makes training diverge where the baseline did not.
``no effect``
    none of the above: the reason says which condition failed.
``inconclusive``
    no pair of complete runs to compare (e.g. the time budget ran out).
``failed``
    the remedy's runs raised an error or were killed (set by the runner, not here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VERDICTS = (
    "resolved",
    "improved",
    "no effect",
    "worse",
    "inconclusive",
    "not applied",
    "failed",
)
METRICS = ("end", "best")
AGREE = 0.75  # share of seeds that must agree on the direction
TIE = 1e-9  # log-ratio below which a pair counts as a tie
SAME = 1e-4  # relative difference in every epoch below which two runs count as the same run


def pct(x: float | None) -> str:
    """A relative change as a signed percentage with one decimal, the one format of every
    message (+4.0%, -17.3%; three significant digits beyond +10000%: +2.99e+10%)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if abs(x) >= 100:  # beyond +10000%: three significant digits, not eleven
        return f"{x * 100:+.3g}%"
    return f"{x:+.1%}"


@dataclass(frozen=True)
class RunOutcome:
    """One finished (or cut short) training run of one arm and one seed.

    ``end_val_loss`` is the loss of the weights the run ended with (the last epoch's weights, or
    the restored best ones when the arm used ``restore_best_weights``) on held-out data no callback
    monitored; ``holdout_loss`` the same held-out loss after every epoch, when it was measured.
    ``val_loss`` is the validation curve the callbacks saw and curvelint diagnosed. ``kinds`` are
    the problem kinds curvelint's engine found at severity warning or above.
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
    holdout_loss: tuple[float, ...] = ()

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
        """The run's score under ``name``; non-finite means it blew up. "end": the held-out loss
        of the weights training ended with; "best": the held-out loss at the epoch with the lowest
        validation loss (the lowest validation loss itself when no held-out curve was measured)."""
        if name == "best":
            v = np.asarray(self.val_loss, dtype=float)
            h = np.asarray(self.holdout_loss, dtype=float)
            if h.size and h.size == v.size and np.isfinite(v).any():
                x = float(h[int(np.nanargmin(np.where(np.isfinite(v), v, np.nan)))])
                return x if math.isfinite(x) else math.inf
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
            "holdout_loss": [_num(x) for x in self.holdout_loss],
        }


def _num(x: float) -> float | str:
    x = float(x)
    if math.isfinite(x):
        return float(f"{x:.6g}")
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


#: the effect fields of a verdict on which no pair of runs was compared
_NOTHING_COMPARED: dict[str, Any] = dict(
    rel_change=math.nan, ci_low=None, ci_high=None, wins=0, losses=0, sign_p=1.0
)


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
    ci_low: float | None  # 95% interval of rel_change (t over pairs), None below 2 pairs
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
    arm: str = ""  # the runs' name (remedy id, or e.g. raise-lr-x100 for a larger dose)
    dose: int = 1

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
            "arm": self.arm or self.remedy,
            "dose": self.dose,
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


def same_run(a: RunOutcome, b: RunOutcome, tol: float = SAME) -> float | None:
    """The largest relative difference between two runs' training and validation curves and end
    losses when they have the same length, else None (different runs)."""
    pairs = [(a.train_loss, b.train_loss), (a.val_loss, b.val_loss)]
    pairs.append(((a.end_val_loss,), (b.end_val_loss,)))
    worst = 0.0
    for x, y in pairs:
        xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if xa.shape != ya.shape:
            return None
        if not np.array_equal(np.isfinite(xa), np.isfinite(ya)):
            return None
        f = np.isfinite(xa)
        if f.any():
            d = np.abs(xa[f] - ya[f]) / np.maximum(np.abs(xa[f]), 1e-12)
            worst = max(worst, float(d.max()))
    return worst


def decide(
    baseline: Sequence[RunOutcome],
    remedy: Sequence[RunOutcome],
    *,
    remedy_id: str,
    target_kind: str | None = None,
    metric: str = "end",
    min_effect: float = 0.02,
    control: bool = False,
    arm: str = "",
    dose: int = 1,
) -> Verdict:
    """Compare a remedy's runs with the baseline's, seed by seed, and say whether it helped.

    ``target_kind`` is the kind of the diagnosed problem ("overfitting", "oscillation", ...);
    ``metric`` is "end" (held-out loss of the weights training ends with: what the user gets)
    or "best" (held-out loss at the best validation epoch); ``min_effect`` is the smallest
    relative change in the loss that counts as an effect. The rules are in the module docstring;
    the verdict's ``reason`` names the rule that decided and the numbers it used.
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
        arm=arm or remedy_id,
        dose=dose,
    )
    if n == 0:
        return Verdict(
            verdict="inconclusive",
            reason="no baseline/remedy pair of complete runs with the same seed to compare",
            **_NOTHING_COMPARED,
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
            "a run without a finite loss counts as twice the worst finite "
            "validation loss seen in any run"
        )
    bc = np.where(np.isfinite(b), b, cap)
    rc = np.where(np.isfinite(r), r, cap)
    d = np.log(np.maximum(rc, 1e-12)) - np.log(np.maximum(bc, 1e-12))
    mean_d = float(d.mean())
    rel = math.expm1(mean_d)
    ci_low = ci_high = None
    if n >= 2:
        from scipy import stats

        se = float(d.std(ddof=1)) / math.sqrt(n)
        half = float(stats.t.ppf(0.975, n - 1)) * se
        ci_low, ci_high = math.expm1(mean_d - half), math.expm1(mean_d + half)
    wins = int(np.sum(d < -TIE))
    losses = int(np.sum(d > TIE))
    sign_p = sign_test_p(wins, n)
    if n < 3:
        notes.append(
            f"{n} seed(s): "
            + (
                "no interval, so no decision on the loss alone"
                if n < 2
                else "the 95% interval has 1 degree of freedom and is very wide"
            )
            + f"; the smallest sign-test p with {n} seeds is {sign_test_p(n, n):.2g}. "
            "Use --seeds 4 or more for a firmer answer"
        )

    b_rate = _kind_rate(base_runs, target_kind)
    r_rate = _kind_rate(rem_runs, target_kind)
    kb = sum(target_kind in p.kinds for p in base_runs) if target_kind else 0
    kr = sum(target_kind in p.kinds for p in rem_runs) if target_kind else 0
    base_kinds = {k for p in base_runs for k in p.kinds}
    new_kinds = tuple(sorted({k for p in rem_runs for k in p.kinds} - base_kinds))
    need = math.ceil(AGREE * n)
    ci_txt = "no interval" if ci_low is None else f"95% CI [{pct(ci_low)}, {pct(ci_high)}]"
    loss_txt = (
        f"{metric} held-out loss {pct(rel)} (geometric mean of the per-seed ratios; "
        f"{ci_txt}; lower in {wins}/{n} seeds)"
    )
    better = wins >= need and rel <= -min_effect and ci_high is not None and ci_high < 0
    worse_loss = losses >= need and rel >= min_effect and ci_low is not None and ci_low > 0
    n_base_div = sum(p.diverged for p in base_runs)
    n_rem_div = sum(p.diverged for p in rem_runs)
    newly_diverged = n_rem_div > n_base_div
    same = [same_run(p, q) for p, q in pairs]

    def failed_conditions(direction: str) -> str:
        """Which condition of 'improved'/'worse' the numbers did not meet."""
        agree = wins if direction == "lower" else losses
        why = []
        if agree < need:
            why.append(
                f"the seeds do not agree: {wins}/{n} lower, {losses}/{n} higher "
                f"(the rule needs {need}/{n})"
            )
        if abs(rel) < min_effect:
            why.append(f"the change {pct(rel)} is smaller than --min-effect {min_effect:.1%}")
        if ci_low is None or ci_high is None:
            why.append("one seed gives no interval")
        elif ci_low <= 0 <= ci_high:
            why.append(f"the 95% interval [{pct(ci_low)}, {pct(ci_high)}] includes 0")
        return "; ".join(why) or "the conditions are not met"

    if all(x is not None and x <= SAME for x in same):
        worst = max(x for x in same if x is not None)
        verdict = "not applied"
        reason = (
            f"rule 'not applied': in all {n} seeds the curves and the end loss equal the "
            f"baseline's to within {SAME:.2%} in every epoch (largest difference {worst:.2g}): "
            "the change did not reach training (the experiment reads the setting but does not "
            "use it) or never acted (e.g. a callback whose condition never came true)"
        )
    elif newly_diverged:
        verdict = "worse"
        reason = (
            f"rule 'worse': training diverged in {n_rem_div}/{n} seeds "
            f"(baseline: {n_base_div}/{n}); {loss_txt}"
        )
    elif worse_loss:
        verdict = "worse"
        reason = (
            f"rule 'worse': higher loss in {losses}/{n} seeds (needed {need}), a change of at "
            f"least --min-effect {min_effect:.1%} and a 95% interval above 0: {loss_txt}"
        )
        if target_kind and kb and kr == 0:
            reason += f"; the {target_kind} is gone but the loss is worse"
    elif target_kind and b_rate is not None and b_rate > 0.5 and kr == 0 and rel < min_effect:
        verdict = "resolved"
        reason = (
            f"rule 'resolved': {target_kind} in more than half of the baseline seeds ({kb}/{n}), "
            f"in none of the remedied seeds (0/{n}), and the loss not higher by --min-effect "
            f"{min_effect:.1%} or more: {loss_txt}"
        )
    elif better:
        verdict = "improved"
        reason = (
            f"rule 'improved': lower loss in {wins}/{n} seeds (needed {need}), a change of at "
            f"least --min-effect {min_effect:.1%} and a 95% interval below 0: {loss_txt}"
        )
        if target_kind and kb:
            reason += f"; {target_kind} still found in {kr}/{n} seeds"
    elif target_kind and kb and kr < kb and rel <= 0:
        verdict = "improved"
        reason = (
            f"rule 'improved': {target_kind} in fewer seeds ({kr}/{n} instead of {kb}/{n}) "
            f"and the loss not higher: {loss_txt}"
        )
    else:
        verdict = "no effect"
        reason = (
            f"not shown to change the loss ({failed_conditions('lower' if rel < 0 else 'higher')})"
            f": {loss_txt}"
        )
        if target_kind and kb and b_rate is not None and b_rate > 0.5:
            if kr == 0 and rel >= min_effect:
                reason += (
                    f"; the {target_kind} is gone in all seeds (baseline {kb}/{n}) but the loss "
                    "is higher, so it is not called resolved"
                )
            else:
                reason += f"; {target_kind} still in {kr}/{n} seeds (baseline {kb}/{n})"
    if target_kind and b_rate is not None and b_rate <= 0.5:
        notes.append(
            f"the baseline showed {target_kind} in only {kb}/{n} seeds (not more than half): "
            "the diagnosis itself does not reproduce well, so 'resolved' cannot be claimed"
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


def failed_verdict(
    remedy_id: str,
    why: str,
    *,
    metric: str,
    control: bool,
    arm: str = "",
    dose: int = 1,
    target_kind: str | None = None,
) -> Verdict:
    """The verdict of a remedy whose runs raised an error or were killed."""
    return Verdict(
        remedy=remedy_id,
        verdict="failed",
        reason=why,
        metric=metric,
        n_pairs=0,
        baseline_mean=math.nan,
        baseline_std=math.nan,
        remedy_mean=math.nan,
        remedy_std=math.nan,
        **_NOTHING_COMPARED,
        target_kind=target_kind,
        baseline_kind_rate=None,
        remedy_kind_rate=None,
        control=control,
        arm=arm or remedy_id,
        dose=dose,
    )


def pick_target(kinds_by_seed: Sequence[Sequence[str]]) -> str | None:
    """The problem kind to verify against, when more than half of the baseline seeds show a
    problem: the kind most seeds show, ties to the one met first in the seeds' own order (each
    seed lists its kinds worst first; an unstable setup can fail differently per seed). None
    when most seeds show no problem: a problem one seed in three shows is not a property of the
    setup, and a remedy for it could only be judged on seed noise."""
    n = len(kinds_by_seed)
    if 2 * sum(1 for kinds in kinds_by_seed if kinds) <= n:
        return None
    order: list[str] = []
    for kinds in kinds_by_seed:
        order += [k for k in kinds if k not in order]
    count = {k: sum(k in kinds for kinds in kinds_by_seed) for k in order}
    return max(order, key=lambda k: (count[k], -order.index(k)))
