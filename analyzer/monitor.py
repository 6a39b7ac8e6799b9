"""Streaming monitor: the rules inside a training loop, cheap enough to leave on.

``Monitor.update(step, **values)`` records one logged step and, when an evaluation is due, runs the
same rules as ``curvelint check`` on everything recorded so far. It returns only findings that are
*new*: a finding (identified by its rule code and curve) is reported once, and again only when it
gets worse (higher severity, or confidence up by at least 0.2).

Why it is cheap
    ``update`` only appends to lists (about a microsecond per logged value). The rules, which take
    from a few hundredths of a millisecond to tens of milliseconds each, run when an evaluation
    is due. Once a validation-like curve is logged (a name whose split is validation, or the
    validation loss/metric chosen by the roles), an evaluation is due after it got a new point
    (overfitting, a validation plateau or zig-zag can only show then); before that, or without
    one, whenever the budget allows. ``every=N`` evaluates every N updates instead
    (deterministic, for tests and replays), ``check_now()`` at once. The first non-finite value
    of a curve triggers an evaluation of every rule at once: divergence to NaN/inf is never
    delayed.

    An evaluation re-does only what new data changes. The curves are built from the bins
    directly (no table; roles recomputed only when a name, finite count or step range
    changed); a curve whose data did not change is the same object, with the statistics the
    rules kept with it; a rule whose curves are all unchanged since its last run is not run
    again (a rule is a pure function of the curves it reads: its findings stand).

    Long curves (the refresh policy). A curve of up to :data:`EXACT_POINTS` (256) points is
    handed to the rules with every new point. A longer one is handed on anew once it received
    ``refresh`` (1/32 by default) more values than when it was last handed on, or at once when
    a value is NaN/inf; until then the rules see it as it was, and re-use what they computed on
    it. So the rules on a curve of n > 256 points re-run at most every ceil(n/32) of its new
    points (47 at 1,500 points): a finding about such a curve may come that many points (3% of
    the run) late, i.e. up to ceil(n/32) - 1 evaluations after the data first showed it when
    every evaluation brings one new point. ``refresh=0`` hands every point on.

    The budget (the default schedule). The rules may take ``budget`` (5%) of the wall time since
    the first update. When the budget cannot pay for every rule at every validation point (a
    fast loop), an evaluation runs the rules in order: first those whose finding was seen once
    and awaits its confirming look (the next evaluation, as soon as the budget is not
    overdrawn, runs it whatever it costs: a finding is announced at the evaluation after the
    one that first saw it), then those whose
    findings are errors (divergence), warnings, information, the cheapest first within each;
    each runs if its expected cost fits what the budget leaves, and once one does not fit, the
    rest wait for the next evaluation (the budget saves up for it). Rules of a kind a live run
    never announces ("train longer") are left to ``report()``. The evaluation itself waits until
    the budget pays for its fixed cost (building the run) and, in that order, the rules for
    errors and the next one, and at least three times the fixed cost in rules
    (:data:`OVERHEAD_SHARE`), or every rule when they cost less. Its long curves go to the
    rules at most :data:`EXACT_POINTS` points (bin means; a bin with a NaN/inf keeps it), which
    bounds what a rule costs however long the run. What each rule costs is timed when the
    monitor is created (each rule twice on made-up runs of 256 points: ~35 ms; the first monitor
    of a process also imports what the rules use) and after each of its
    runs. A slow loop (an epoch of seconds) has budget for everything: every rule at every
    validation point, as with ``every``.

    ``report()`` is not live: it re-runs every rule whose curves changed on every curve as
    recorded, so its verdicts and findings are those of ``curvelint check`` on the same values.

What is announced (:class:`FindingTracker`)
    A live run is not finished. Findings its rule marks transient (overfitting, a training loss
    that surged less than 10x and is still below its start, plateau, oscillation) are announced
    once two consecutive evaluations agree (a bump often recedes; in a fast loop whose
    evaluation came two validation points or more after the previous one, the second look is
    the rule's on the data one validation point earlier), a plateau not before 10
    points were logged (a run flat for its first steps often starts moving), a validation
    zig-zag only while it goes on. "Train longer" (PLT002) is left to ``report()``. A finding
    is announced again when it gets worse (severity, confidence +0.2, or its size doubled: the
    overfitting rise, the divergence ratio, the swing), and one that went away is listed in
    :attr:`Monitor.resolved`.

Why memory stays bounded
    Each curve keeps at most ``max_points`` points. When a curve grows past that, its history is
    bin-averaged into bins twice as wide (all bins of a curve keep the same width, so the rules see
    a uniformly resampled curve whose shape matches the full one; a non-finite value in a bin is
    kept as that bin's value so divergence stays visible). Values not yet folded into a bin wait in
    a short raw buffer. Curves with fewer than ``max_points`` points (per-epoch logs) are kept
    exactly, so ``report()`` at the end gives the same verdict as an offline ``check``.

Roles come from the value names, exactly as for columns of a log file (``loss``, ``val_loss``,
``lr``, ``val_accuracy``, ``train/loss`` ...); ``train_loss=``/``val_loss=`` override them.

A plain PyTorch loop::

    from analyzer import Monitor

    mon = Monitor()                                    # or Monitor(every=1) per epoch
    for epoch in range(epochs):
        for x, y in loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad(); loss.backward(); opt.step()
            step += 1
            for f in mon.update(step, loss=loss.item(), lr=opt.param_groups[0]["lr"]):
                print(f"curvelint: {f.code} {f.message}")
        for f in mon.update(step, val_loss=evaluate(model)):
            print(f"curvelint: {f.code} {f.message}")
            if f.kind == "divergence":
                raise SystemExit("training diverged")
    print(mon.report().to_json())                      # same structure as `check --format json`
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from .curves import Curve, CurveSet
from .findings import SEVERITY_RANK, Finding, Report, RunReport

#: a finding is re-reported when its confidence rose by at least this much
CONFIDENCE_STEP = 0.2
#: raw values buffered before they are folded into the curve's bins
_FOLD = 256
#: a live evaluation hands a curve of more points than this to the rules anew only once it grew
#: by ``refresh`` (a fraction: :data:`REFRESH` by default) since it was last handed on
EXACT_POINTS = 256
#: the default of ``refresh``: a long curve's statistics are recomputed when it grew by 1/32
REFRESH = 1 / 32
#: seconds a rule that has not run yet is expected to take (a budgeted evaluation waits until
#: the budget can pay that much)
PRIOR_COST = 1e-3
#: a budgeted evaluation waits until its fixed cost (building the run, ~0.3 ms) is at most this
#: share of what the budget leaves for it: in a loop too fast for every rule at every
#: validation point, fewer evaluations that each run rules rather than many that only build
OVERHEAD_SHARE = 1 / 4


#: seeds of the made-up runs Monitor._calibrate times the rules on
_CALIBRATIONS = itertools.count()

#: the fields of a CurveSet a rule may read (see _Watched)
_FIELDS = frozenset(
    ("run", "train", "val", "train_metric", "val_metric", "lr", "other_losses", "hparams")
)
#: the fields read by the rule running now, per thread (monitors may evaluate concurrently)
_LOCAL = threading.local()


def _read_fields() -> set[str]:
    fields = getattr(_LOCAL, "read", None)
    if fields is None:
        fields = _LOCAL.read = set()
    return fields


class _Watched(CurveSet):
    """A CurveSet that notes which of its fields the rule running on it reads."""

    def __getattribute__(self, name: str) -> Any:
        if name in _FIELDS:
            _read_fields().add(name)
        return object.__getattribute__(self, name)


def _same(a: Any, b: Any) -> bool:
    """Whether a rule input is unchanged: the same Curve objects (a curve is rebuilt only when its
    data or role changed), equal plain values (run id, hparams)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
    if isinstance(a, Curve) or isinstance(b, Curve) or a is None or b is None:
        return a is b
    return bool(a == b)


class _Schedule:
    """Which rules an evaluation re-runs, and what each one costs (one per monitor).

    A rule whose curves are unchanged since its last run is never re-run (its findings stand).
    One whose curves changed is re-run when :meth:`allow` says so: always in an evaluation that
    runs everything due (``plan`` None: ``report()``, ``check_now()``, ``every=N``, a non-finite
    value), else when it is in the evaluation's plan (:meth:`Monitor._plan`). A rule not re-run
    keeps its last findings (stale) and is asked again at the next evaluation."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        #: None: every rule whose curves changed re-runs in this evaluation; else a budgeted
        #: evaluation: the rules of ``first`` re-run, the others while ``left`` (seconds, less
        #: what each rule took) pays for their expected cost
        self.plan: dict[str, float] | None = None
        self.first: set[str] = set()
        self.left = 0.0
        self.blocked = False  # a rule did not fit: the rest of the plan waits
        #: the order the rules run in (a budgeted evaluation: its priority; None: registry order)
        self.order: list[str] | None = None
        #: codes that re-ran in this evaluation (their findings are new looks at new data)
        self.fresh: set[str] = set()
        self.spent: dict[str, float] = {}  # seconds each rule spent, all evaluations
        self.last: dict[str, float] = {}  # seconds its next run is expected to take

    def allow(self, code: str) -> bool:
        if self.plan is None or code in self.first:
            return True
        if code not in self.plan or self.blocked:
            return False
        if self.plan[code] <= self.left:
            return True
        self.blocked = True  # the rules after it wait too: the budget saves up for it
        return False

    def ran(self, code: str, seconds: float) -> None:
        self.left -= seconds
        self.fresh.add(code)
        self.spent[code] = self.spent.get(code, 0.0) + seconds
        # what its next run is expected to cost: its runs' times, smoothed (one run may pay for
        # statistics the others then share)
        before = self.last.get(code)
        if before is None:
            self.last[code] = seconds
        else:  # one run counts at most twice the estimate (a pause of the machine)
            self.last[code] = 0.5 * (before + min(seconds, 2.0 * before))


@cache
def _live_classes() -> tuple[type, type]:
    """The rule and options types of a live evaluation (built on first use: the engine and the
    rules are imported lazily, as everywhere in this module)."""
    import rules as rule_registry
    from rules._common import condensed

    from .engine import Options

    @dataclass(frozen=True)
    class CachedRule(rule_registry.Rule):
        """A rule that re-uses its findings while the curves it read last time are unchanged (a
        rule is a pure function of the curves it reads), and while its schedule does not let it
        re-run on changed ones (then its findings are those of its last run: stale)."""

        memo: dict = field(default_factory=dict, compare=False, repr=False)

        def run(self, curves, **options):
            if any(k not in self.options for k in options):
                return super().run(curves, **options)  # raises the usual error
            cs = condensed(curves)  # what Rule.run hands to the rule
            key = tuple(sorted(options.items()))
            hit = self.memo.get("last")
            same_options = hit is not None and hit[0] == key
            if same_options and all(_same(getattr(cs, f), v) for f, v in hit[1].items()):
                return list(hit[2])
            schedule = self.memo.get("schedule")  # a _Schedule, or None
            if schedule is not None and not schedule.allow(self.code):
                return list(hit[2]) if same_options else []  # not now: the last look stands
            watched = _Watched(**{f: getattr(cs, f) for f in _FIELDS})
            read = _read_fields()
            read.clear()
            t = schedule.clock() if schedule is not None else 0.0
            out = self.module.check(watched, **options)
            if schedule is not None:
                schedule.ran(self.code, schedule.clock() - t)
            self.memo["last"] = (key, {f: getattr(cs, f) for f in read}, list(out))
            return out

    @dataclass
    class LiveOptions(Options):
        """Options whose rules keep their last findings (one set of rules per monitor)."""

        cached: list = field(default_factory=list, compare=False, repr=False)
        schedule: _Schedule | None = field(default=None, compare=False, repr=False)

        def rules(self):
            chosen = super().rules()
            if [r.code for r in self.cached] != [r.code for r in chosen]:
                self.cached = [CachedRule(r.code, r.name, r.kind, r.module) for r in chosen]
                for r in self.cached:
                    r.memo["schedule"] = self.schedule
            order = self.schedule.order if self.schedule is not None else None
            if order:  # the findings do not depend on the order (they are sorted afterwards)
                rank = {c: i for i, c in enumerate(order)}
                return sorted(self.cached, key=lambda r: rank.get(r.code, len(rank)))
            return list(self.cached)

    return CachedRule, LiveOptions


_OPTION_FIELDS = ("select", "ignore", "rule_options", "train_loss", "val_loss")


def _live_run(run_id: str, roles: Any, curves: dict[str, Curve], notes: list[str]) -> Any:
    """A :class:`analyzer.runs.Run` whose logged curves are ``curves`` (derived sums of
    components are built from them as for any run)."""
    from .readers import empty_frame
    from .runs import Run

    class LiveRun(Run):
        def curve(self, tag: str | None) -> Curve | None:
            if tag is not None and tag in curves and tag not in self.roles.derived:
                return curves[tag]
            if tag is not None and tag not in self.roles.derived:
                return None
            return super().curve(tag)

    return LiveRun(
        id=run_id, format="monitor", files=[], frame=empty_frame(), roles=roles, notes=notes
    )


#: kinds whose findings say a live run is not yet done, not that anything is wrong ("train
#: longer"): meaningful once training ended, so announced only by ``report()``
LIVE_SILENT_KINDS = frozenset({"undertrained"})
#: data points logged before a plateau can be announced live: a loss "flat since step 1" after
#: six steps says nothing yet (as Keras' EarlyStopping/ReduceLROnPlateau wait out a patience)
MIN_LIVE_POINTS = 10
#: a validation zig-zag whose last swing is this many evaluations old is over: a live alert is
#: about what the run does now (``check`` and ``report()`` still report the episode). The first
#: fast descent often bounces two or three times and is calm after that.
LIVE_QUIET_EVALUATIONS = 4
#: the evidence that says how bad a finding is, per kind: a finding is re-announced ("worse")
#: when it doubled since it was last announced
MAGNITUDE = {
    "overfitting": "relative_rise",
    "divergence": "ratio",
    "oscillation": "amplitude_rel_level",
}


def _magnitude(f: Finding) -> float | None:
    key = MAGNITUDE.get(f.kind)
    v = f.evidence.get(key) if key else None
    try:
        x = float(v) if v is not None else None
    except (TypeError, ValueError):
        return None
    return x if x is not None and math.isfinite(x) and x > 0 else None


def _over(f: Finding) -> bool:
    """A swing episode that is over (its last swing :data:`LIVE_QUIET_EVALUATIONS` or more
    evaluations ago): what the run did, not what it does."""
    quiet = f.evidence.get("evaluations_since_last_swing")
    return isinstance(quiet, int) and quiet >= LIVE_QUIET_EVALUATIONS


@dataclass
class _Seen:
    """What the tracker knows of one finding key."""

    streak: int = 0  # consecutive observations it was present in
    announced: Finding | None = None  # the version last announced
    rank: int = -1
    confidence: float = 0.0
    magnitude: float | None = None
    missing: int = 0  # consecutive observations it was absent from, once announced
    transient: bool = False  # its last sighting was of a transient finding


class FindingTracker:
    """Decides what a live run announces: new findings, findings that got worse, findings that went
    away. Shared by :class:`Monitor` and ``curvelint watch``.

    A finding is identified by ``(run, code, curve)``. :meth:`observe` takes the findings of one
    evaluation and the size of the data they were computed on (points logged so far) and returns
    the findings to announce, and :attr:`resolved` the ones that went away:

    - a finding is announced the first time it counts: at once for a non-finite value or an
      explosion; a finding its rule marks transient only once seen at two consecutive
      evaluations; a plateau not before :data:`MIN_LIVE_POINTS` points were logged; a validation
      zig-zag only while it goes on (its last swing fewer than :data:`LIVE_QUIET_EVALUATIONS`
      evaluations ago); a "train longer" finding (:data:`LIVE_SILENT_KINDS`) never (a live run
      is not finished);
    - it is announced again when it got worse: a higher severity, a confidence up by
      :data:`CONFIDENCE_STEP`, or its magnitude (:data:`MAGNITUDE`: the overfitting rise, the
      divergence ratio, the swing amplitude) doubled since it was last announced;
    - an announced finding absent from two consecutive evaluations is resolved (listed in
      :attr:`resolved` once, then forgotten: it is announced afresh if it comes back).

    :meth:`new` is :meth:`observe` without the live policy (every finding counts at once).
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], _Seen] = {}
        self.resolved: list[Finding] = []
        #: the findings of the last observation that count (announced now or before)
        self.active: list[Finding] = []

    @staticmethod
    def _key(f: Finding) -> tuple[str, str, str]:
        return (f.run, f.code, f.curve or "")

    def _ready(self, f: Finding, st: _Seen, size: float, live: bool) -> bool:
        if not live:
            return True
        if f.kind in LIVE_SILENT_KINDS:
            return False
        if f.transient and st.streak < 2:
            return False
        return not (f.kind == "plateau" and size < MIN_LIVE_POINTS)

    def observe(
        self,
        findings: Iterable[Finding],
        size: float = 0.0,
        *,
        live: bool = True,
        fresh: Container[str] | None = None,
    ) -> list[Finding]:
        """``fresh``: the codes of the rules that looked at new data in this evaluation (None:
        all). The findings of the other rules are their last look, carried over: present (not
        resolved), but not a second sighting."""
        out: list[Finding] = []
        present = set()
        self.active = []
        for f in findings:
            if live and _over(f):
                continue  # an episode that ended: as if absent (an announced one resolves)
            key = self._key(f)
            present.add(key)
            st = self._seen.get(key)
            if st is None:
                st = self._seen[key] = _Seen()
            if fresh is None or f.code in fresh or st.streak == 0:
                st.streak += 1
            st.missing = 0
            st.transient = bool(f.transient) and f.kind not in LIVE_SILENT_KINDS
            if not self._ready(f, st, size, live):
                continue
            self.active.append(f)
            rank, conf, mag = SEVERITY_RANK[f.severity], float(f.confidence), _magnitude(f)
            worse = st.announced is None or (
                rank > st.rank
                or conf >= st.confidence + CONFIDENCE_STEP - 1e-9
                or (mag is not None and st.magnitude is not None and mag >= 2.0 * st.magnitude)
            )
            if worse:
                st.announced, st.rank, st.confidence, st.magnitude = f, rank, conf, mag
                out.append(f)
        self.resolved = []
        for key in list(self._seen):
            if key in present:
                continue
            st = self._seen[key]
            if st.announced is None:
                del self._seen[key]  # never announced: start afresh if it comes back
                continue
            if fresh is not None and key[1] not in fresh:
                continue  # its rule did not look again: no second absence either
            st.streak = 0
            st.missing += 1
            if st.missing >= 2 or not live:
                self.resolved.append(st.announced)
                del self._seen[key]
        return out

    def waiting(self) -> set[str]:
        """Codes of the rules with a transient finding seen once and not announced yet: the
        look that would confirm it is due at the next evaluation."""
        return {
            key[1]
            for key, st in self._seen.items()
            if st.announced is None and st.streak == 1 and st.transient
        }

    def new(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings that are new or worse, with no live policy (each counts at once)."""
        return self.observe(findings, live=False)

    def forget(self, finding: Finding) -> None:
        """Report this finding again next time it is seen (e.g. after acting on it)."""
        self._seen.pop(self._key(finding), None)


@dataclass
class _Series:
    """One curve with bounded memory: uniform bins of ``width`` raw points + a raw tail."""

    max_points: int
    width: int = 1
    head_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    head_v: np.ndarray = field(default_factory=lambda: np.empty(0))
    # the bin being filled: count, sum of steps, sum of values, first non-finite value
    p_n: int = 0
    p_s: float = 0.0
    p_v: float = 0.0
    p_bad: float | None = None
    tail_s: list[float] = field(default_factory=list)
    tail_v: list[float] = field(default_factory=list)
    total: int = 0

    def fold(self) -> None:
        """Move the raw tail into bins; halve the resolution while there are too many bins."""
        if not self.tail_s:
            return
        s = np.asarray(self.tail_s, dtype=float)
        v = np.asarray(self.tail_v, dtype=float)
        self.total += len(s)
        self.tail_s.clear()
        self.tail_v.clear()
        if self.width == 1 and self.p_n == 0:
            self._append(s, v)
        else:
            self._fill(s, v)
        while len(self.head_s) > self.max_points:
            self._halve()

    def _append(self, s: np.ndarray, v: np.ndarray) -> None:
        self.head_s = np.concatenate([self.head_s, s])
        self.head_v = np.concatenate([self.head_v, v])

    def _add_pending(self, s: np.ndarray, v: np.ndarray) -> None:
        self.p_n += len(s)
        self.p_s += float(s.sum())
        fin = np.isfinite(v)
        if self.p_bad is None and not fin.all():
            self.p_bad = float(v[~fin][0])
        self.p_v += float(v[fin].sum())

    def _pending_point(self) -> tuple[float, float]:
        val = self.p_bad if self.p_bad is not None else self.p_v / self.p_n
        return self.p_s / self.p_n, val

    def _fill(self, s: np.ndarray, v: np.ndarray) -> None:
        w = self.width
        if self.p_n:
            need = w - self.p_n
            self._add_pending(s[:need], v[:need])
            s, v = s[need:], v[need:]
            if self.p_n < w:
                return
            ps, pv = self._pending_point()
            self._append(np.array([ps]), np.array([pv]))
            self.p_n, self.p_s, self.p_v, self.p_bad = 0, 0.0, 0.0, None
        k = len(s) // w
        if k:
            bs = s[: k * w].reshape(k, w)
            bv = v[: k * w].reshape(k, w)
            fin = np.isfinite(bv)
            means = np.where(fin, bv, 0.0).sum(axis=1) / w
            first_bad = bv[np.arange(k), np.argmin(fin, axis=1)]
            self._append(bs.mean(axis=1), np.where(fin.all(axis=1), means, first_bad))
        if len(s) > k * w:
            self._add_pending(s[k * w :], v[k * w :])

    def _halve(self) -> None:
        s, v = self.head_s, self.head_v
        m = len(s) // 2 * 2
        a, b = v[0:m:2], v[1:m:2]
        ok = np.isfinite(a) & np.isfinite(b)
        merged = np.where(ok, (a + b) / 2, np.where(np.isfinite(a), b, a))
        new_s = (s[0:m:2] + s[1:m:2]) / 2
        w = self.width
        if len(s) > m:  # an odd bin left over: it starts the pending bin of double width
            ls, lv = s[-1], v[-1]
            self.p_s += ls * w
            self.p_n += w
            if not math.isfinite(lv):
                self.p_bad = lv if self.p_bad is None else self.p_bad
            else:
                self.p_v += lv * w
        self.head_s, self.head_v = new_s, merged
        self.width = 2 * w

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The curve as it is now: bins plus the partly filled bin (one averaged point)."""
        self.fold()
        s, v = self.head_s, self.head_v
        if self.p_n:
            ps, pv = self._pending_point()
            s = np.append(s, ps)
            v = np.append(v, pv)
        return np.rint(s).astype(np.int64), v

    def __len__(self) -> int:
        return len(self.head_s) + (1 if self.p_n else 0) + len(self.tail_s)

    @property
    def count(self) -> int:
        """Values received so far (folded or not)."""
        return self.total + len(self.tail_s)


def _coarse(c: Curve, points: int) -> Curve:
    """``c`` at most ``points`` points: consecutive points averaged in equal bins (the last one
    possibly shorter), a bin with a non-finite value keeping its first one (divergence stays
    visible), as :class:`_Series` bins. Kept in the curve's memo: built once per curve."""
    key = ("monitor_coarse", points)
    got = c.memo.get(key)
    if got is not None:
        return got
    n = len(c)
    if n <= points:
        return c
    k = -(-n // points)
    m = n // k * k
    s = np.asarray(c.steps, dtype=float)
    v = np.asarray(c.values, dtype=float)
    parts_s = [s[:m].reshape(-1, k).mean(axis=1)]
    bv = v[:m].reshape(-1, k)
    fin = np.isfinite(bv)
    means = np.where(fin, bv, 0.0).sum(axis=1) / k
    first_bad = bv[np.arange(len(bv)), np.argmin(fin, axis=1)]
    parts_v = [np.where(fin.all(axis=1), means, first_bad)]
    if m < n:
        rest = v[m:]
        bad = rest[~np.isfinite(rest)]
        parts_s.append(np.array([s[m:].mean()]))
        parts_v.append(np.array([bad[0] if len(bad) else rest.mean()]))
    steps = np.rint(np.concatenate(parts_s)).astype(np.int64)
    values = np.concatenate(parts_v)
    out = Curve(c.tag, c.role, c.direction, steps, values, np.full(len(steps), np.nan))
    c.memo[key] = out
    return out


class Monitor:
    """Run curvelint's rules on values logged during training; report each new finding once.

    ``select``/``ignore``/``rule_options``/``train_loss``/``val_loss`` have the same names and
    meaning as for :func:`analyzer.check` and the CLI; bad ones raise
    :class:`~analyzer.errors.OptionsError` here, before training starts. ``every``: run the rules
    every ``every`` updates (None: adaptive, after new validation points and within ``budget`` of
    the wall time, see the module docstring). ``refresh``: a curve longer than
    :data:`EXACT_POINTS` is handed to the rules anew once it grew by this fraction (0: at every
    point). ``max_points``: points kept per curve (older history is bin-averaged). ``run``: the
    run id shown in findings and reports. ``clock`` is for tests (the time the rules take is
    measured with it).
    """

    def __init__(
        self,
        *,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        rule_options: Mapping[str, Mapping[str, Any]] | None = None,
        train_loss: str | None = None,
        val_loss: str | None = None,
        every: int | None = None,
        budget: float = 0.05,
        refresh: float = REFRESH,
        max_points: int = 2000,
        min_points: int = 5,
        run: str = "monitor",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        from .engine import Options

        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1 or None, not {every!r}")
        if max_points < 16:
            raise ValueError(f"max_points must be at least 16, not {max_points!r}")
        if not 0.0 <= refresh <= 1.0:
            raise ValueError(f"refresh must be between 0 and 1, not {refresh!r}")
        # unknown rule codes, unknown options and wrong value types fail here (OptionsError), not
        # in the middle of training
        self.options = Options.build(select, ignore, rule_options, train_loss, val_loss)
        self.every = every
        self.budget = float(budget)
        self.refresh = float(refresh)
        self.max_points = int(max_points)
        self.min_points = int(min_points)
        self.run = run
        self._clock = clock
        self._series: dict[str, _Series] = {}
        self._tracker = FindingTracker()
        self._n_updates = 0
        self._pending = 0  # updates since the last evaluation
        self._last_step: int = -1
        self._nonfinite: set[str] = set()
        self._bad_new: set[str] = set()  # names with a non-finite value not yet handed on
        self._t0: float | None = None
        self._spent = 0.0  # seconds spent evaluating
        self._last_cost = 0.0
        self._overhead = 0.0  # seconds an evaluation is expected to spend outside the rules
        self._exact = False  # the last evaluation saw everything recorded, every rule current
        self._run_report: RunReport | None = None
        self.evaluations = 0
        # the same options, with rules that keep their findings while their curves are unchanged
        # and re-run when the schedule lets them
        self._schedule = _Schedule(clock)
        live = _live_classes()[1]
        self._live_options = live(
            **{k: getattr(self.options, k) for k in _OPTION_FIELDS}, schedule=self._schedule
        )
        # schedule by data progress: names of validation-like series, and whether one of them
        # received a point since the last evaluation
        self._val_keys: set[str] = set()
        self._val_new = False
        # updates that carried a validation value: so far, at the last evaluation, and how many
        # came between the last two evaluations (_look_back)
        self._val_updates = 0
        self._val_at_last = 0
        self._val_gap = 0
        # per name: the curve the rules see, (role, direction) it was built with, and the values
        # received when it was built; roles per tag statistics of those curves
        self._published: dict[str, tuple[tuple[str, str | None], Curve, int]] = {}
        self._roles_key: tuple | None = None
        self._roles: Any = None
        self._live: list[Any] | None = None  # see _live_rules
        self._need: float | None = None  # see _affordable
        self._waiting: set[str] = set()  # rules whose finding awaits its confirming look
        self._calibrated: dict[str, float] = {}  # seconds each rule took on a made-up run
        if every is None:
            self._calibrate()

    # ---- recording
    def update(self, step: int | None = None, /, **values: float) -> list[Finding]:
        """Record ``values`` (name=value) logged at ``step``; return the findings that are new.

        ``step`` defaults to the previous step + 1. Values may be anything ``float()`` accepts
        (Python/NumPy numbers, 0-d tensors); None is skipped.
        """
        if step is None:
            step = self._last_step + 1
        self._last_step = step
        series = self._series
        urgent = val_here = False
        for key, value in values.items():
            if value is None:
                continue
            v = float(value)
            ser = series.get(key)
            if ser is None:
                ser = series[key] = _Series(self.max_points)
                self._new_name(key)
            if key in self._val_keys:
                self._val_new = True
                val_here = True
            ser.tail_s.append(step)
            ser.tail_v.append(v)
            if len(ser.tail_s) >= _FOLD:
                ser.fold()
            if v - v != 0.0:  # NaN or +-inf: the curve is handed to the rules at once
                self._bad_new.add(key)
                if key not in self._nonfinite:  # the first time: evaluate now
                    self._nonfinite.add(key)
                    urgent = True
        self._n_updates += 1
        self._val_updates += val_here
        self._pending += 1
        self._exact = False
        if self._t0 is None:
            self._t0 = self._clock()
        if urgent:
            return self._evaluate()
        if self._due():
            return self._evaluate(budgeted=self.every is None)
        return []

    def _new_name(self, key: str) -> None:
        from .roles import classify

        if key == self.options.val_loss or classify(key).split == "val":
            self._val_keys.add(key)

    def _due(self) -> bool:
        if self._n_updates < self.min_points:
            return False
        if self.every is not None:
            return self._pending >= self.every
        if self._val_keys:
            # a run with a validation curve is judged when it gets a new point (overfitting,
            # a validation plateau or zig-zag can only show up then), budget permitting; when
            # the budget says no, at the next new validation point
            return self._val_new and self._affordable()
        return self._affordable()

    def _expected(self, code: str) -> float:
        """Seconds a rule's next run is expected to take: its last run's (PRIOR_COST before the
        first)."""
        return self._schedule.last.get(code, PRIOR_COST)

    def _live_rules(self) -> list[Any]:
        """The selected rules a budgeted evaluation may run: not those of a kind a live run never
        announces ("train longer": ``report()`` runs them)."""
        if self._live is None:
            self._live = [r for r in self._live_options.rules() if r.kind not in LIVE_SILENT_KINDS]
        return self._live

    def _allowance(self) -> float:
        """Seconds the budget leaves for the next evaluation's rules: ``budget`` of the wall time
        since the first update, less what evaluations spent, less the expected fixed cost of
        one."""
        assert self._t0 is not None  # set by update() before it asks
        return self.budget * (self._clock() - self._t0) - self._spent - self._overhead

    def _affordable(self) -> bool:
        """Whether a budgeted evaluation is worth its cost now: a finding awaits its confirming
        look (and the budget is not overdrawn), or what the budget leaves pays for the
        evaluation's fixed cost (building the run)
        and, in the order the rules run, every rule whose findings are errors and the next one,
        and rules worth at least three times the fixed cost (:data:`OVERHEAD_SHARE`) when there
        are that many."""
        if self._waiting:  # the confirming look: as soon as the budget is not overdrawn
            return self._allowance() + self._overhead >= 0.0
        if self._need is None:
            ranked = self._ranked()
            errors = sum(getattr(r.module, "SEVERITY", "") == "error" for r in ranked)
            costs = [self._expected(r.code) for r in ranked]
            rules = max(sum(costs[: errors + 1]), self._overhead * (1 / OVERHEAD_SHARE - 1))
            self._need = self._overhead + min(rules, sum(costs))
        return self._allowance() + self._overhead >= self._need

    def _calibrate(self) -> None:
        """Time each selected rule on a made-up run as long as a budgeted evaluation hands
        them (:data:`EXACT_POINTS` training points, a quarter as many validation points; the
        faster of two runs), and what building a run costs, so that the budget knows what an
        evaluation costs before the first one. About 35 ms, when the monitor is created."""
        n = np.arange(EXACT_POINTS)
        at = n[3::4]
        for _ in range(2):  # the faster of two runs: the first may pay for imports
            # other numbers for every run: the trend statistics remember results by content,
            # and a remembered result would time nothing
            noise = np.random.default_rng(next(_CALIBRATIONS)).standard_normal(len(n) + len(at))
            train = 0.3 + 2.0 / (1.0 + 0.02 * n) + 0.02 * noise[: len(n)]
            val = 0.5 + 2.0 / (1.0 + 0.02 * at) + 0.01 * noise[len(n) :]
            curves = CurveSet(
                run=self.run,
                train=Curve.of(n, train, tag="loss"),
                val=Curve.of(at, val, tag="val_loss", role="val_loss"),
                lr=Curve.of(n, np.full(len(n), 1e-3), tag="lr", role="lr", direction=None),
            )
            for r in self._live_rules():
                t = self._clock()
                # a rule that fails on this run fails on a real one: not here
                with contextlib.suppress(Exception):
                    r.module.check(curves, **self.options.options_for(r))
                took = self._clock() - t
                last = self._schedule.last
                last[r.code] = min(took, last.get(r.code, took))
        self._calibrated = dict(self._schedule.last)
        # and what an evaluation costs besides the rules: roles, the run, the report
        from .engine import Options, analyze_run
        from .roles import assign_roles

        named = {c.tag: c for c in (curves.train, curves.val, curves.lr) if c is not None}
        for _ in range(2):
            t = self._clock()
            roles = assign_roles(
                {k: len(c) for k, c in named.items()},
                tag_steps={k: (int(c.steps[0]), int(c.steps[-1])) for k, c in named.items()},
            )
            analyze_run(_live_run(self.run, roles, named, []), Options(select=["DIV001"]))
            took = self._clock() - t
            self._overhead = took if self._overhead == 0.0 else min(self._overhead, took)

    def _ranked(self) -> list[Any]:
        """The live rules in the order a budgeted evaluation runs them: those awaiting a
        confirming look, then those whose findings are errors, warnings, information, each the
        cheapest first (as timed when the monitor was created: a stable order)."""

        def order(r: Any) -> tuple[bool, int, float]:
            severity = SEVERITY_RANK.get(getattr(r.module, "SEVERITY", "info"), 0)
            cost = self._calibrated.get(r.code, self._expected(r.code))
            return (r.code not in self._waiting, -severity, cost)

        return sorted(self._live_rules(), key=order)

    def _plan(self, started: float) -> None:
        """Set up a budgeted evaluation (a rule whose curves did not change is not re-run
        anyway): first the rules with a finding seen once that awaits its confirming look (so a
        finding is announced at the evaluation after the one that first saw it), then the
        others, those whose findings are errors first, then warnings, then information, and
        within each the cheapest first (as timed when the monitor was created: a stable order),
        each if its expected cost (its last run's) fits what the budget leaves after the rules
        run before it (their actual cost)."""
        schedule = self._schedule
        ranked = self._ranked()
        schedule.order = [r.code for r in ranked]
        schedule.plan = {r.code: self._expected(r.code) for r in ranked}
        schedule.first = set(self._waiting)
        # what the budget leaves now that the run is built (a quarter of the fixed cost kept for
        # what follows the rules: the report)
        assert self._t0 is not None
        now = self._clock()
        earned = self.budget * (now - self._t0)
        schedule.left = earned - self._spent - (now - started) - OVERHEAD_SHARE * self._overhead
        schedule.blocked = False

    # ---- analysing
    def _build_run(self, *, full: bool = True, coarse: bool = False) -> Any:
        """The run as the engine sees it, built from the series directly: the same roles (they
        depend on the names, finite counts and step ranges, and are recomputed only when those
        change) and the same curves as from a table of the recorded values. A curve whose data
        and role did not change since the last evaluation is the same object, with the statistics
        the rules kept with it.

        ``full`` False (a live evaluation): a curve longer than :data:`EXACT_POINTS` points is
        handed on anew only once it received ``refresh`` (a fraction) more values than when it
        was last handed on, or a non-finite value; until then the rules see it as it was then.
        ``coarse`` (a budgeted evaluation): such a curve is handed on at most
        :data:`EXACT_POINTS` points (bin means, :func:`_coarse`).
        """
        from .roles import assign_roles

        fresh: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
        for key in sorted(self._series):
            ser = self._series[key]
            got = self._published.get(key)
            if got is not None:
                n_new = ser.count - got[2]
                if n_new == 0:
                    continue
                behind = not full and key not in self._bad_new and len(got[1]) > EXACT_POINTS
                if behind and n_new < self.refresh * got[2]:
                    continue
            s, v = ser.arrays()
            if len(s) > 1 and not np.all(s[1:] >= s[:-1]):
                order = np.argsort(s, kind="stable")  # as sorting the table by step would
                s, v = s[order], v[order]
            fresh[key] = (s, v, ser.count)
            self._bad_new.discard(key)
        points: dict[str, int] = {}
        ranges: dict[str, tuple[int, int]] = {}
        for key in sorted(self._series):
            if key in fresh:
                s, v, _ = fresh[key]
            elif key in self._published:
                c = self._published[key][1]
                s, v = c.steps, c.values
            else:
                continue
            if len(s):
                points[key] = int(np.isfinite(v).sum())
                ranges[key] = (int(s.min()), int(s.max()))
        tl, vl = self.options.train_loss, self.options.val_loss
        roles_key = (tuple(points.items()), tuple(ranges.items()))
        if roles_key != self._roles_key:
            self._roles = assign_roles(
                points,
                train_loss=tl if tl in points else None,
                val_loss=vl if vl in points else None,
                tag_steps=ranges,
            )
            self._roles_key = roles_key
        roles = self._roles
        for r in (roles.val_loss, roles.val_metric):
            for k in roles.derived.get(r, [r]) if r is not None else []:
                self._val_keys.add(k)
        curves: dict[str, Curve] = {}
        for k in points:
            info = roles.tags.get(k)
            ident = (info.role, info.direction) if info else ("other", None)
            got = self._published.get(k)
            if k in fresh or got is None or got[0] != ident:
                if k in fresh:
                    s, v, count = fresh[k]
                else:
                    assert got is not None  # k has points: fresh or published before
                    s, v, count = got[1].steps, got[1].values, got[2]
                wall = np.full(len(s), np.nan)
                got = self._published[k] = (ident, Curve(k, ident[0], ident[1], s, v, wall), count)
            curves[k] = _coarse(got[1], EXACT_POINTS) if coarse else got[1]
        notes = [
            f"--{name} {given!r} is not a tag of this run (tags: {', '.join(sorted(points))}); "
            "chose automatically instead"
            for name, given in (("train-loss", tl), ("val-loss", vl))
            if given is not None and given not in points
        ]
        return _live_run(self.run, roles, curves, notes)

    def _evaluate(self, *, budgeted: bool = False, full: bool = False) -> list[Finding]:
        """One evaluation. ``budgeted``: re-run only the rules :meth:`_plan` lets (the default
        schedule); else every rule whose curves changed. ``full``: every curve as recorded
        (``report()``); else long curves as the refresh policy hands them on."""
        from .engine import analyze_run

        t = self._clock()
        self._pending = 0
        if not self._series:
            return []
        self._val_new = False
        self._val_gap, self._val_at_last = self._val_updates - self._val_at_last, self._val_updates
        schedule = self._schedule
        run = self._build_run(full=full, coarse=budgeted)
        if budgeted:
            self._plan(t)
        schedule.fresh = set()
        in_rules = sum(schedule.spent.values())
        try:
            self._run_report = analyze_run(run, self._live_options)
        finally:
            schedule.plan, schedule.order = None, None
        self.evaluations += 1
        cost = self._clock() - t
        # the fixed cost of an evaluation, smoothed, one evaluation counting at most four times
        # the estimate (one may pay for a new curve's roles, or a pause of the machine)
        outside = max(0.0, cost - (sum(schedule.spent.values()) - in_rules))
        if self._overhead > 0.0:
            outside = min(outside, 4.0 * self._overhead)
            self._overhead = 0.5 * (self._overhead + outside)
        else:
            self._overhead = outside
        self._spent += cost
        self._last_cost = cost
        self._exact = full
        self._need = None  # the rules' expected costs changed
        # A live run is not finished: what to announce (and when) is the tracker's live policy
        # (FindingTracker); report() is not debounced.
        out = self._tracker.observe(
            self._run_report.findings, self._n_updates, fresh=set(schedule.fresh)
        )
        self._waiting = self._tracker.waiting()
        if budgeted and self._waiting:
            out += self._look_back(run)
        return out

    def _look_back(self, run: Any) -> list[Finding]:
        """A second look for findings first seen now, on the data as it was one validation point
        earlier, when this evaluation came two validation points or more after the previous one
        (a fast loop, where the budget affords few evaluations): a transient finding its rule
        also finds there is seen twice, on different data, and announced now instead of at an
        evaluation the budget may not afford. A slow loop, evaluated at every validation point,
        never looks back."""
        if self._val_gap < 2:
            return []
        cs = run.curve_set()
        if cs.val is None or len(cs.val) < 2:
            return []
        t = self._clock()
        cut = np.asarray(cs.val.steps)[-2]  # the data up to the previous validation point
        earlier = cs.map_curves(lambda c: c.upto(cut))
        import rules as rule_registry

        report = self._run_report
        assert report is not None  # set by the evaluation that called this
        now = {(f.code, f.curve) for f in report.findings if f.code in self._waiting}
        seen = set()
        for rule in self._live_options.rules():
            if rule.code not in self._waiting:
                continue
            try:
                found = rule_registry.Rule.run(
                    rule, earlier, **self._live_options.options_for(rule)
                )
            except (TypeError, ValueError):
                continue
            if any((f.code, f.curve) in now for f in found):
                seen.add(rule.code)
        self._spent += self._clock() - t
        if not seen:
            return []
        resolved = self._tracker.resolved
        out = self._tracker.observe(report.findings, self._n_updates, fresh=seen)
        self._tracker.resolved = resolved + self._tracker.resolved
        self._waiting = self._tracker.waiting()
        return out

    def check_now(self) -> list[Finding]:
        """Run the rules now (whatever the schedule) and return the new findings."""
        return self._evaluate()

    def forget(self, finding: Finding) -> None:
        """Report ``finding`` again the next time the rules find it (after acting on it)."""
        self._tracker.forget(finding)

    @property
    def active(self) -> list[Finding]:
        """The findings of the latest evaluation that count under the live policy (announced at
        it or before): what an action in the training loop should act on."""
        return list(self._tracker.active)

    @property
    def resolved(self) -> list[Finding]:
        """Findings announced earlier that the latest evaluation no longer shows (two evaluations
        in a row): the run recovered. Each is listed once."""
        return list(self._tracker.resolved)

    @property
    def findings(self) -> list[Finding]:
        """All findings of the latest evaluation (worst first), new or not."""
        return list(self._run_report.findings) if self._run_report is not None else []

    @property
    def verdict(self) -> str | None:
        """Verdict of the latest evaluation: healthy | problems | insufficient-data (None: none)."""
        return self._run_report.verdict if self._run_report is not None else None

    @property
    def roles(self) -> dict[str, str | None]:
        """Which logged name plays which role (as of the latest evaluation)."""
        return dict(self._run_report.roles) if self._run_report is not None else {}

    def report(self) -> Report:
        """A full report of everything recorded (rules re-run if anything new was logged)."""
        from . import __version__

        if not self._exact or self._run_report is None:
            self._evaluate(full=True)
        runs: list[RunReport] = [self._run_report] if self._run_report is not None else []
        return Report(runs=runs, version=__version__)

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The recorded (possibly downsampled) steps and values of one logged name."""
        if name not in self._series:
            known = ", ".join(sorted(self._series)) or "(none yet)"
            raise KeyError(f"nothing logged as {name!r}; logged: {known}")
        return self._series[name].arrays()

    def stats(self) -> dict[str, Any]:
        """Bookkeeping numbers: updates, evaluations, seconds spent, points kept per curve."""
        return {
            "updates": self._n_updates,
            "evaluations": self.evaluations,
            "seconds_evaluating": self._spent,
            "points": {k: len(s) for k, s in self._series.items()},
            "bin_width": {k: s.width for k, s in self._series.items()},
        }
