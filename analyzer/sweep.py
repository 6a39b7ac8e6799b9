"""Sweep insight: which settings go with which problems, across the runs of a check.

Pure functions on what each run's report already holds (its verdict, the kinds of its findings,
its final validation loss, its hyper-parameters); no curve is looked at again and no rule is run.

For each kind of finding (divergence, plateau, ...) and each hyper-parameter that varies, the
runs are split in two, every way the setting allows:

* a number: at every gap between two observed values (``lr <= 0.01`` against ``lr >= 0.1``);
  with more than :data:`MAX_SPLITS` distinct values, at :data:`MAX_SPLITS` gaps spread evenly
  over the runs (quantiles);
* anything else: each value against all the others.

Each split is a 2x2 table (runs on each side, with and without the kind) tested with Fisher's
exact test (two-sided). The p-values of all the tests made (every kind, setting and split) are
corrected together by Holm's method, which bounds the chance of any false claim at
:data:`ALPHA`. A claim is kept when its corrected p-value is at most :data:`ALPHA` and the kind's
share of runs on the concentrated side exceeds the other side's by at least
:data:`MIN_DIFFERENCE` (in a sweep of thousands of runs, 5% against 8% can be significant without
being worth saying); of the claims about one kind and one setting only the strongest is shown.

What is tested is fixed by the sweep, not by the findings: a kind enters when at least two runs
have it and at least two do not; a setting enters when at least :data:`MIN_RUNS` runs hold it
(runs of unrelated projects that share a few setting names are no sweep), it varies, is not a seed, is not an
outcome (``best_metric``, ``global_step`` ...) and, when not a number, is not different on every
run (an id or a path) and takes at most :data:`MAX_CATEGORIES` values. Settings that have equal
values on every run (``bs`` from the folder name and ``batch_size`` from the HParams plugin)
are tested once, under the longer name.

Seeds: runs whose settings differ only in a seed (``seed``, ``random_state`` ...) form a group;
a kind found in some runs of a group and not in others is *seed-sensitive* for those settings.
Runs are the unit of the tests (the seeds of one setting count as separate runs).

Best run: the lowest final validation loss among the runs judged healthy.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .findings import RunReport

if TYPE_CHECKING:  # numpy is imported by the functions that use it: a report answered from the
    import numpy as np  # result cache (one run, no sweep) needs none

#: family-wise error rate of all the claims of one sweep (Holm's correction)
ALPHA = 0.05
#: the smallest difference between the shares of runs with the kind on the two sides of a claim
MIN_DIFFERENCE = 0.25
#: the fewest runs with hyper-parameters (and something that varies) for a sweep section
MIN_RUNS = 8
#: at most this many splits of one numeric setting
MAX_SPLITS = 20
#: a setting that is not a number, with more values than this, is not tested
MAX_CATEGORIES = 20

_SEED = re.compile(r"(?:^|[._/])(?:seed|random_seed|random_state|rng_seed|data_seed|seed_\w+)$")
# what a run's files hold beside its settings that is an outcome or bookkeeping, not a choice
_OUTCOME = re.compile(
    r"(?:^|[._/])(?:best_metric|best_model_checkpoint|best_global_step|global_step|epoch|"
    r"total_flos|num_input_tokens_seen|is_local_process_zero|is_world_process_zero|"
    r"is_hyper_param_search|mlflow\.runname|run_name|run_id|output_dir|logging_dir|"
    r"stateful_callbacks.*|trial_name)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RunFacts:
    """What the sweep analysis needs of one run."""

    run: str
    verdict: str
    kinds: frozenset[str]
    hparams: Mapping[str, Any]
    val_final: float | None = None

    def to_row(self) -> dict[str, Any]:
        """Plain data for the result cache (:meth:`from_row` reads it back)."""
        return {
            "run": self.run,
            "verdict": self.verdict,
            "kinds": sorted(self.kinds),
            "hparams": dict(self.hparams),
            "val_final": self.val_final,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunFacts:
        return cls(
            run=row["run"],
            verdict=row["verdict"],
            kinds=frozenset(row["kinds"]),
            hparams=dict(row["hparams"]),
            val_final=row["val_final"],
        )


def facts(report: RunReport) -> RunFacts:
    """The :class:`RunFacts` of a run's report."""
    val = report.summary.get("val_final")
    return RunFacts(
        run=report.run,
        verdict=report.verdict,
        kinds=frozenset(f.kind for f in report.findings if f.kind != "internal"),
        hparams=dict(report.hparams),
        val_final=float(val) if isinstance(val, (int, float)) and math.isfinite(val) else None,
    )


@dataclass(frozen=True)
class _Param:
    key: str
    aliases: tuple[str, ...]
    values: dict[str, Any]  # run -> value (only runs that have it)
    numeric: bool


@dataclass
class _Test:
    kind: str
    param: _Param
    op: str  # ">=", "<=", "=="
    value: Any
    other: Any  # the value on the other side nearest the split (numbers), or the other value
    n_in: int
    n_out: int
    k_in: int
    k_out: int
    p: float
    p_adjusted: float = 1.0


@dataclass
class Sweep:
    runs: int
    hparams: list[dict[str, Any]]
    tests: int
    claims: list[dict[str, Any]] = field(default_factory=list)
    best_run: dict[str, Any] | None = None
    seed_sensitive: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "hparams": self.hparams,
            "tests": self.tests,
            "correction": "holm",
            "alpha": ALPHA,
            "claims": self.claims,
            "best_run": self.best_run,
            "seed_sensitive": self.seed_sensitive,
        }


def fmt(value: Any) -> str:
    """A setting's value as the sweep's sentences print it (``0.0001``, ``8``, ``adam``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _norm(v: Any) -> Any:
    """A value as compared between runs: numbers by value (8 == 8.0), lists as tuples."""
    if _is_number(v):
        return float(v)
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    return v if isinstance(v, (str, bool)) or v is None else str(v)


def is_seed(key: str) -> bool:
    return _SEED.search(key.lower()) is not None


def _params(runs: Sequence[RunFacts], min_runs: int = MIN_RUNS) -> list[_Param]:
    """The settings to test, aliases merged (see the module docstring): each held by at least
    ``min_runs`` of the runs (fewer cannot carry a claim, and runs of unrelated projects that
    share a few setting names are not a sweep over them)."""
    keys: dict[str, dict[str, Any]] = {}
    for r in runs:
        for k, v in r.hparams.items():
            if is_seed(k) or _OUTCOME.search(k):
                continue
            keys.setdefault(k, {})[r.run] = _norm(v)
    # longest name first: the one kept when several settings hold equal values
    order = sorted(keys, key=lambda k: (-len(k), k))
    kept: list[_Param] = []
    for k in order:
        vals = keys[k]
        if len(vals) < min_runs:
            continue
        distinct = set(vals.values())
        if len(distinct) < 2:
            continue
        numeric = all(_is_number(v) for v in vals.values())
        if not numeric and (len(distinct) == len(vals) or len(distinct) > MAX_CATEGORIES):
            continue
        for i, p in enumerate(kept):
            if p.values == vals:
                kept[i] = _Param(p.key, p.aliases + (k,), p.values, p.numeric)
                break
        else:
            kept.append(_Param(k, (), vals, numeric))
    return sorted(kept, key=lambda p: p.key)


def _splits(p: _Param) -> list[tuple[str, Any, Any, Any]]:
    """(op, value, other, runs inside) of every split of a setting, the runs as positions in
    ``p.values``; for a number both sides of a gap are one test, returned as ``<=`` (the side
    with the smaller values; ``other`` is the smallest value above the gap); for something else
    ``other`` is the other value when there are two, else None."""
    import numpy as np

    out: list[tuple[str, Any, Any, Any]] = []
    if p.numeric:
        arr = np.array(list(p.values.values()), dtype=float)
        values = sorted(set(p.values.values()))
        gaps = list(range(len(values) - 1))
        if len(gaps) > MAX_SPLITS:
            ranked = sorted(p.values.values())
            n = len(ranked)
            picks = {
                values.index(ranked[min(n - 1, round(n * (i + 1) / (MAX_SPLITS + 1)))])
                for i in range(MAX_SPLITS)
            }
            gaps = sorted(g for g in picks if g < len(values) - 1)
        for g in gaps:
            lo = values[g]
            out.append(("<=", lo, values[g + 1], arr <= lo))
    else:
        categories = sorted(set(p.values.values()), key=str)
        if len(categories) == 2:
            categories = categories[:1]  # a against b is b against a
        for c in categories:
            other = next((x for x in set(p.values.values()) if x != c), None)
            inside = np.array([v == c for v in p.values.values()], dtype=bool)
            out.append(("==", c, other if len(categories) == 1 else None, inside))
    return out


_LOG_FACT: np.ndarray | None = None


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k = 0..n (at least), kept between calls."""
    import numpy as np

    global _LOG_FACT
    have = 1 if _LOG_FACT is None else len(_LOG_FACT)
    if _LOG_FACT is None or have <= n:
        size = max(n + 1, 2 * have)
        _LOG_FACT = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, size)))))
    return _LOG_FACT


def fisher_p(k_in: int, n_in: int, k_out: int, n_out: int) -> float:
    """Two-sided p-value of Fisher's exact test of the table [[k_in, n_in - k_in], [k_out,
    n_out - k_out]]: the probability, given the margins, of a table no more likely than this one
    (as ``scipy.stats.fisher_exact`` computes it; a sweep makes thousands, and this needs no
    scipy import)."""
    import numpy as np

    k = k_in + k_out
    n = n_in + n_out
    lf = _log_factorials(n)
    x = np.arange(max(0, k - n_out), min(k, n_in) + 1)
    # log of C(n_in, x) C(n_out, k - x) / C(n, k)
    logp = (
        lf[n_in]
        - lf[x]
        - lf[n_in - x]
        + lf[n_out]
        - lf[k - x]
        - lf[n_out - k + x]
        - (lf[n] - lf[k] - lf[n - k])
    )
    observed = logp[k_in - x[0]]
    # tables as likely as the observed one, up to rounding, count as "no more likely"
    p = float(np.exp(logp[logp <= observed + 1e-7]).sum())
    return min(1.0, p)


def _holm(tests: list[_Test]) -> None:
    m = len(tests)
    running = 0.0
    for i, t in enumerate(sorted(tests, key=lambda t: t.p)):
        running = max(running, min(1.0, (m - i) * t.p))
        t.p_adjusted = running


def _claim(t: _Test, total: Mapping[str, int]) -> dict[str, Any] | None:
    n_in, n_out = t.n_in, t.n_out
    rate_in, rate_out = t.k_in / n_in, t.k_out / n_out
    op, value, k_in, k_out = t.op, t.value, t.k_in, t.k_out
    if rate_in < rate_out:  # the kind sits on the other side
        if op == "==":
            if t.other is None:
                return None  # "rarer with opt = adam" is said by the claims about the others
            value = t.other  # of two values, the other one
            n_in, n_out, k_in, k_out = n_out, n_in, k_out, k_in
            rate_in, rate_out = rate_out, rate_in
        else:
            op, value = ">=", t.other
            n_in, n_out, k_in, k_out = n_out, n_in, k_out, k_in
            rate_in, rate_out = rate_out, rate_in
    if rate_in - rate_out < MIN_DIFFERENCE:
        return None
    key = t.param.key
    where = f"{key} {'=' if op == '==' else '≤' if op == '<=' else '≥'} {fmt(value)}"
    if op == "==":
        other = f"other values of {key}"
    elif op == "<=":
        other = f"{key} > {fmt(value)}"
    else:
        other = f"{key} < {fmt(value)}"
    # Haldane-Anscombe: half a run added to each cell, so that a zero cell gives a finite ratio
    odds = ((k_in + 0.5) * (n_out - k_out + 0.5)) / ((n_in - k_in + 0.5) * (k_out + 0.5))
    sentence = (
        f"{t.kind} in {k_in}/{n_in} runs with {where} vs {k_out}/{n_out} with {other} "
        f"(Fisher p = {t.p:.2g}; Holm-corrected over {total['tests']} tests: "
        f"p = {t.p_adjusted:.2g})"
    )
    return {
        "kind": t.kind,
        "hparam": key,
        "aliases": list(t.param.aliases),
        "op": op,
        "value": value,
        "runs_in": n_in,
        "with_kind_in": k_in,
        "runs_out": n_out,
        "with_kind_out": k_out,
        "rate_in": round(rate_in, 4),
        "rate_out": round(rate_out, 4),
        "risk_difference": round(rate_in - rate_out, 4),
        "odds_ratio": round(odds, 4),
        "p": float(f"{t.p:.4g}"),
        "p_adjusted": float(f"{t.p_adjusted:.4g}"),
        "sentence": sentence,
    }


def _groups(runs: Sequence[RunFacts], params: list[_Param]) -> list[dict[str, Any]]:
    """Kinds found in some seeds of a setting and not in others."""
    if not any(is_seed(k) for r in runs for k in r.hparams):
        return []
    by: dict[tuple, list[RunFacts]] = {}
    for r in runs:
        key = tuple((p.key, p.values.get(r.run)) for p in params)
        by.setdefault(key, []).append(r)
    out = []
    for key, members in sorted(by.items(), key=lambda kv: str(kv[0])):
        if len(members) < 2:
            continue
        seeds = {m.run: _seed_of(m) for m in members}
        for kind in sorted(set().union(*(m.kinds for m in members))):
            have = [m.run for m in members if kind in m.kinds]
            if 0 < len(have) < len(members):
                settings = {k: v for k, v in key if v is not None}
                without = [m.run for m in members if kind not in m.kinds]
                shown = ", ".join(f"{k}={fmt(v)}" for k, v in settings.items())
                sentence = (
                    f"{kind} in {len(have)} of {len(members)} seeds of {shown or 'one setting'} "
                    f"(with: {', '.join(_seed_label(seeds[r], r) for r in have)}; without: "
                    f"{', '.join(_seed_label(seeds[r], r) for r in without)})"
                )
                out.append(
                    {
                        "kind": kind,
                        "settings": settings,
                        "runs_with": have,
                        "runs_without": without,
                        "sentence": sentence,
                    }
                )
    return out


def _seed_of(r: RunFacts) -> Any:
    for k, v in r.hparams.items():
        if is_seed(k):
            return v
    return None


def _seed_label(seed: Any, run: str) -> str:
    return f"seed {fmt(seed)}" if seed is not None else run


def _best(runs: Sequence[RunFacts]) -> dict[str, Any] | None:
    healthy = [r for r in runs if r.verdict == "healthy" and r.val_final is not None]
    if not healthy:
        return None
    b = min(healthy, key=lambda r: (r.val_final, r.run))
    return {
        "run": b.run,
        "val_final": b.val_final,
        "hparams": dict(b.hparams),
        "healthy_runs": len(healthy),
        "sentence": f"best healthy run: {b.run} (final validation loss {b.val_final:.4g}, "
        f"lowest of {len(healthy)} healthy run(s) with a validation loss)",
    }


def analyse(runs: Iterable[RunFacts], *, min_runs: int = MIN_RUNS) -> Sweep | None:
    """The sweep analysis of ``runs`` (see the module docstring), or None when they are not a
    sweep: fewer than ``min_runs`` judged runs with hyper-parameters, or no setting that varies
    and can be tested."""
    judged = [r for r in runs if r.verdict != "insufficient-data" and r.hparams]
    if len(judged) < min_runs:
        return None
    params = _params(judged, min_runs)
    if not params:
        return None
    import numpy as np  # here: a check of one run (or of runs that are no sweep) needs none

    n = len(judged)
    counts: dict[str, int] = {}
    for r in judged:
        for k in r.kinds:
            counts[k] = counts.get(k, 0) + 1
    kinds = sorted(k for k, c in counts.items() if c >= 2 and n - c >= 2)
    has = {r.run: r.kinds for r in judged}
    tests: list[_Test] = []
    for kind in kinds:
        for p in params:
            flags = np.array([kind in has[r] for r in p.values], dtype=bool)
            total_k = int(flags.sum())
            for op, value, other, inside in _splits(p):
                n_in = int(inside.sum())
                k_in = int((inside & flags).sum())
                n_out, k_out = len(flags) - n_in, total_k - k_in
                p_value = fisher_p(k_in, n_in, k_out, n_out)
                tests.append(_Test(kind, p, op, value, other, n_in, n_out, k_in, k_out, p_value))
    _holm(tests)
    total = {"tests": len(tests)}
    best: dict[tuple[str, str], tuple[_Test, dict[str, Any]]] = {}
    for t in tests:
        if t.p_adjusted > ALPHA:
            continue
        c = _claim(t, total)
        if c is None:
            continue
        slot = (t.kind, t.param.key)
        old = best.get(slot)
        if old is None or (t.p_adjusted, -c["risk_difference"]) < (
            old[0].p_adjusted,
            -old[1]["risk_difference"],
        ):
            best[slot] = (t, c)
    claims = sorted(
        (c for _, c in best.values()), key=lambda c: (c["p_adjusted"], c["kind"], c["hparam"])
    )
    return Sweep(
        runs=n,
        hparams=[
            {
                "name": p.key,
                "aliases": list(p.aliases),
                "numeric": p.numeric,
                "values": len(set(p.values.values())),
            }
            for p in params
        ],
        tests=len(tests),
        claims=claims,
        best_run=_best(judged),
        seed_sensitive=_groups(judged, params),
    )


def sweep_of(reports: Iterable[RunReport]) -> dict[str, Any] | None:
    """The JSON form of the sweep of these run reports, or None when they are not a sweep (or
    when the analysis failed: a bug here must not cost the user the report of every run)."""
    return safe_dict(facts(r) for r in reports)


def safe_dict(runs: Iterable[RunFacts]) -> dict[str, Any] | None:
    """:func:`analyse` as JSON, None when there is no sweep or the analysis raised."""
    try:
        s = analyse(runs)
    except Exception as e:  # said, not raised: the runs' own reports still go out
        warnings.warn(
            f"curvelint: the sweep analysis failed (please report it): {type(e).__name__}: {e}",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return s.to_dict() if s is not None else None
