"""Streaming monitor: the rules inside a training loop, cheap enough to leave on.

``Monitor.update(step, **values)`` records one logged step and, when an evaluation is due, runs the
same rules as ``curvelint check`` on everything recorded so far. It returns only findings that are
*new*: a finding (identified by its rule code and curve) is reported once, and again only when it
gets worse (higher severity, or confidence up by at least 0.2).

Why it is cheap
    ``update`` only appends to lists (about a microsecond per logged value). The rules, which take
    tens to hundreds of milliseconds, run when an evaluation is due: by default when the time
    spent in evaluations so far, plus the expected cost of the next one (the last one's, scaled
    by the square root of the growth in points, at most doubled), stays within ``budget`` (5%) of the wall time
    since the first update, so a slow training loop is checked at every step and a fast one
    every few seconds. Once a validation-like curve is logged (a name whose split is validation, or
    the validation loss/metric chosen by the roles), the rules run only after it got a new point
    (overfitting, a validation plateau or zig-zag can only show then), as soon as the budget
    allows. An evaluation re-uses what did not change: the curves are built from the bins
    directly (roles recomputed only when a name, finite count or step range changed), a curve
    whose data did not change is the same object with the statistics the rules kept with it,
    and a rule whose curves are all unchanged since its last run is not run again (its findings
    are re-used; a rule is a pure function of the curves it reads);
    ``every=N`` checks every N updates instead (deterministic, for tests and replays). The first
    non-finite value of a curve triggers an evaluation at once: divergence to NaN/inf is never
    delayed.

What is announced (:class:`FindingTracker`)
    A live run is not finished. Findings its rule marks transient (overfitting, a training loss
    that surged less than 10x and is still below its start, plateau, oscillation) are announced
    once two consecutive evaluations agree (a bump often recedes), a plateau not before 10
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

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
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
        rule is a pure function of the curves it reads)."""

        memo: dict = field(default_factory=dict, compare=False, repr=False)

        def run(self, curves, **options):
            if any(k not in self.options for k in options):
                return super().run(curves, **options)  # raises the usual error
            cs = condensed(curves)  # what Rule.run hands to the rule
            key = tuple(sorted(options.items()))
            hit = self.memo.get("last")
            if (
                hit is not None
                and hit[0] == key
                and all(_same(getattr(cs, f), v) for f, v in hit[1].items())
            ):
                return list(hit[2])
            watched = _Watched(**{f: getattr(cs, f) for f in _FIELDS})
            read = _read_fields()
            read.clear()
            out = self.module.check(watched, **options)
            self.memo["last"] = (key, {f: getattr(cs, f) for f in read}, list(out))
            return out

    @dataclass
    class LiveOptions(Options):
        """Options whose rules keep their last findings (one set of rules per monitor)."""

        cached: list = field(default_factory=list, compare=False, repr=False)

        def rules(self):
            chosen = super().rules()
            if [r.code for r in self.cached] != [r.code for r in chosen]:
                self.cached = [CachedRule(r.code, r.name, r.kind, r.module) for r in chosen]
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
        self, findings: Iterable[Finding], size: float = 0.0, *, live: bool = True
    ) -> list[Finding]:
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
            st.streak += 1
            st.missing = 0
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
            st.streak = 0
            st.missing += 1
            if st.missing >= 2 or not live:
                self.resolved.append(st.announced)
                del self._seen[key]
        return out

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


class Monitor:
    """Run curvelint's rules on values logged during training; report each new finding once.

    ``select``/``ignore``/``rule_options``/``train_loss``/``val_loss`` have the same names and
    meaning as for :func:`analyzer.check` and the CLI; bad ones raise
    :class:`~analyzer.errors.OptionsError` here, before training starts. ``every``: run the rules
    every ``every`` updates (None: adaptive, within ``budget`` of the wall time, see the module docstring).
    ``max_points``: points kept per curve (older history is bin-averaged). ``run``: the run id
    shown in findings and reports. ``clock`` is for tests.
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
        # unknown rule codes, unknown options and wrong value types fail here (OptionsError), not
        # in the middle of training
        self.options = Options.build(select, ignore, rule_options, train_loss, val_loss)
        self.every = every
        self.budget = float(budget)
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
        self._t0: float | None = None
        self._spent = 0.0  # seconds spent evaluating
        self._last_cost = 0.0
        self._n_at_eval = 0  # updates recorded at the last evaluation
        self._run_report: RunReport | None = None
        self.evaluations = 0
        # the same options, with rules that keep their findings while their curves are unchanged
        live = _live_classes()[1]
        self._live_options = live(**{k: getattr(self.options, k) for k in _OPTION_FIELDS})
        # schedule by data progress: names of validation-like series, and whether one of them
        # received a point since the last evaluation
        self._val_keys: set[str] = set()
        self._val_new = False
        # per name: (values received, role, direction) -> Curve; roles per tag statistics
        self._curves: dict[str, tuple[tuple[int, str, str | None], Curve]] = {}
        self._roles_key: tuple | None = None
        self._roles: Any = None

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
        urgent = False
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
            ser.tail_s.append(step)
            ser.tail_v.append(v)
            if len(ser.tail_s) >= _FOLD:
                ser.fold()
            if v - v != 0.0 and key not in self._nonfinite:  # NaN or +-inf, first time
                self._nonfinite.add(key)
                urgent = True
        self._n_updates += 1
        self._pending += 1
        if self._t0 is None:
            self._t0 = self._clock()
        if urgent or self._due():
            return self._evaluate()
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

    def _affordable(self) -> bool:
        assert self._t0 is not None  # set by update() before it asks whether one is due
        allowed = self.budget * (self._clock() - self._t0)
        if self._spent + self._last_cost > allowed:
            return False
        # the rules cost more on longer curves (sub-linearly; curves are capped at max_points):
        # expect the next evaluation to cost the last one times sqrt(growth in points), at most
        # twice the last one (the first evaluations, on a few points, say little about the cost)
        cap = self.max_points
        growth = min(self._n_updates, cap) / max(1, min(self._n_at_eval, cap))
        factor = min(2.0, math.sqrt(max(1.0, growth)))
        return self._spent + self._last_cost * factor <= allowed

    # ---- analysing
    def _build_run(self) -> Any:
        """The run as the engine sees it, built from the series directly: the same roles (they
        depend on the names, finite counts and step ranges, and are recomputed only when those
        change) and the same curves as from a table of the recorded values; a curve whose data and
        role did not change since the last evaluation is the same object, with the statistics
        the rules kept with it."""
        from .roles import assign_roles

        arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        counts: dict[str, int] = {}
        for key in sorted(self._series):
            ser = self._series[key]
            s, v = ser.arrays()
            if len(s) > 1 and not np.all(s[1:] >= s[:-1]):
                order = np.argsort(s, kind="stable")  # as sorting the table by step would
                s, v = s[order], v[order]
            arrays[key] = (s, v)
            counts[key] = ser.total
        points = {k: int(np.isfinite(v).sum()) for k, (s, v) in arrays.items() if len(s)}
        ranges = {k: (int(s.min()), int(s.max())) for k, (s, v) in arrays.items() if len(s)}
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
            role, direction = (info.role, info.direction) if info else ("other", None)
            ident = (counts[k], role, direction)
            got = self._curves.get(k)
            if got is None or got[0] != ident:
                s, v = arrays[k]
                wall = np.full(len(s), np.nan)
                got = self._curves[k] = (ident, Curve(k, role, direction, s, v, wall))
            curves[k] = got[1]
        notes = [
            f"--{name} {given!r} is not a tag of this run (tags: {', '.join(sorted(points))}); "
            "chose automatically instead"
            for name, given in (("train-loss", tl), ("val-loss", vl))
            if given is not None and given not in points
        ]
        return _live_run(self.run, roles, curves, notes)

    def _evaluate(self) -> list[Finding]:
        from .engine import analyze_run

        t = self._clock()
        self._pending = 0
        self._n_at_eval = self._n_updates
        if not self._series:
            return []
        self._val_new = False
        run = self._build_run()
        self._run_report = analyze_run(run, self._live_options)
        self.evaluations += 1
        cost = self._clock() - t
        self._spent += cost
        self._last_cost = cost
        # A live run is not finished: what to announce (and when) is the tracker's live policy
        # (FindingTracker); report() is not debounced.
        return self._tracker.observe(self._run_report.findings, self._n_updates)

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

        if self._pending or self._run_report is None:
            self._evaluate()
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
