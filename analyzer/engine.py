"""Run the rules over runs and collect findings into a report."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import rules as rule_registry

from . import __version__, remote
from .curves import CurveSet
from .discover import (
    OPENED_BY_DISCOVERY,
    Discovery,
    RunSource,
    Skipped,
    discover,
    distinct_roots,
    natural_key,
    root_prefix,
    sniff_each,
)
from .findings import SEVERITY_RANK, Finding, Report, RunReport, plain_hparams, run_json
from .readers.side_files import SIDE_FILES
from .rule_index import select_codes
from .runs import LoadResult, Run, read_run
from .sweep import facts, sweep_of

MIN_POINTS = 5


@dataclass
class Options:
    """What to run: rule selection, per-rule options, roles. Same names as the CLI and config."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    train_loss: str | None = None
    val_loss: str | None = None

    @classmethod
    def build(
        cls,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        rule_options: Mapping[str, Mapping[str, Any]] | None = None,
        train_loss: str | None = None,
        val_loss: str | None = None,
    ) -> Options:
        """Checked options; every front end (CLI, Python API, Monitor) builds them here.

        Raises :class:`analyzer.errors.OptionsError` (a ValueError, and a KeyError as before) for
        an unknown rule code or prefix in ``select``/``ignore``, an unknown rule in
        ``rule_options``, an option the rule's ``check`` does not take, or a value whose type
        does not match the option's default; the message names the rule once."""
        from .errors import OptionsError

        # one code or prefix may be given as a plain string ("PLT"), not only as a list
        select = [select] if isinstance(select, str) else list(select or [])
        ignore = [ignore] if isinstance(ignore, str) else list(ignore or [])
        for name, args in (("select", (select, None)), ("ignore", (None, ignore))):
            try:
                select_codes(*args)  # the rules' codes and names, without importing them
            except KeyError as e:
                raise OptionsError(str(e.args[0]), name) from None
        checked: dict[str, dict[str, Any]] = {}
        for key, opts in (rule_options or {}).items():
            try:
                rule = rule_registry.get(key)
            except (KeyError, AttributeError, TypeError):
                known = ", ".join(f"{r.code} ({r.name})" for r in rule_registry.all_rules())
                raise OptionsError(
                    f"unknown rule {key!r} in the rule options; known rules: {known}",
                    "rule_options",
                ) from None
            if not isinstance(opts, Mapping):
                raise OptionsError(
                    f"{rule.code}: options must be a mapping of option names to values, "
                    f"not {type(opts).__name__}",
                    "rule_options",
                )
            cls._check_rule_options(rule, opts)
            checked[key] = dict(opts)
        return cls(
            select=select,
            ignore=ignore,
            rule_options=checked,
            train_loss=train_loss,
            val_loss=val_loss,
        )

    @staticmethod
    def _check_rule_options(rule: rule_registry.Rule, opts: Mapping[str, Any]) -> None:
        """Option names against the keyword defaults of ``rule``'s ``check``; value types against
        the defaults' types (a number for a float, an integer for an int, true/false for a
        bool; a None default takes anything)."""
        import numbers

        from .errors import OptionsError

        known = rule.options
        listed = ", ".join(sorted(known)) or "none"
        unknown = [k for k in opts if not isinstance(k, str) or k.replace("-", "_") not in known]
        if unknown:
            s = "s" if len(unknown) > 1 else ""
            names = ", ".join(repr(k) for k in unknown)
            raise OptionsError(
                f"{rule.code}: unknown option{s} {names} (options: {listed})", "rule_options"
            )
        for k, value in opts.items():
            default = known[k.replace("-", "_")]
            if default is None:
                continue
            if isinstance(default, bool):
                ok, want = isinstance(value, bool), "true or false"
            elif isinstance(default, numbers.Integral):
                ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
                want = "an integer"
            elif isinstance(default, numbers.Real):
                ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
                want = "a number"
            else:
                ok, want = isinstance(value, type(default)), f"a {type(default).__name__}"
            if not ok:
                raise OptionsError(
                    f"{rule.code}: option {k!r} must be {want}, not {value!r} "
                    f"({type(value).__name__})",
                    "rule_options",
                )

    def rules(self) -> list[rule_registry.Rule]:
        chosen = rule_registry.select(self.select, self.ignore)
        for key in self.rule_options:
            rule_registry.get(key)  # unknown rule in options -> KeyError
        return chosen

    def rule_codes(self) -> list[str]:
        """The codes of :meth:`rules`, in the same order, without importing the rules when no
        rule options are set (:mod:`analyzer.rule_index`): what the result cache's key and its
        answers need."""
        if self.rule_options:
            return [r.code for r in self.rules()]
        return select_codes(self.select, self.ignore)

    def options_for(self, rule: rule_registry.Rule) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        for key, val in self.rule_options.items():
            if rule_registry.get(key).code == rule.code:
                opts.update({k.replace("-", "_"): v for k, v in val.items()})
        return opts


def _finite_count(c) -> int:
    import numpy as np

    return int(np.isfinite(c.values).sum()) if c is not None else 0


#: LABELS-SPEC judges the other kinds on the part of a run before its divergence "when that part
#: is long enough": a rule that defers to a kind (``DEFERS_TO``) is judged again on the part before
#: the onset when that part covers at least this share of the run (steps of the curve the rules
#: judge first: the validation loss, else the training loss) and :data:`BEFORE_MIN_POINTS`
#: points. Shorter, it is the run-up to the divergence: its swings are part of it.
BEFORE_MIN_SHARE = 0.5
BEFORE_MIN_POINTS = 8


def _explains(g: Finding, kinds: Sequence[str]) -> bool:
    """Whether finding ``g`` explains away the findings that defer to ``kinds``: one of those
    kinds, warning or worse, and a finding that ``supersedes`` (not a state present from the
    first evaluation on)."""
    return (
        g.kind in kinds and g.supersedes and SEVERITY_RANK[g.severity] >= SEVERITY_RANK["warning"]
    )


def _deferring(
    findings: list[Finding], chosen: list[rule_registry.Rule]
) -> list[tuple[rule_registry.Rule, int | None]]:
    """The rules whose findings give way to another finding of the run (their ``DEFERS_TO``
    kinds, warning or worse, one that ``supersedes``), each with the earliest onset among
    those findings (None when one has no step)."""
    out: list[tuple[rule_registry.Rule, int | None]] = []
    for rule in chosen:
        kinds = tuple(getattr(rule.module, "DEFERS_TO", ()))
        onsets = [g.start_step for g in findings if g.code != rule.code and _explains(g, kinds)]
        if onsets:
            known = [o for o in onsets if o is not None]
            out.append((rule, min(known) if len(known) == len(onsets) else None))
    return out


def _judged_before(
    curves: CurveSet, rule: rule_registry.Rule, onset: int | None, options: Options
) -> list[Finding]:
    """``rule``'s findings on the part of the run before ``onset`` (every curve cut just before
    it), when that part is long enough (:data:`BEFORE_MIN_SHARE`); [] otherwise. Each says so in
    its message and evidence (``judged_before_step``)."""
    if onset is None:
        return []
    full = curves.val if curves.val is not None and len(curves.val) else curves.train
    if full is None or len(full) < 2:
        return []
    first, last = float(full.steps[0]), float(full.steps[-1])
    if last <= first or (onset - first) / (last - first) < BEFORE_MIN_SHARE:
        return []
    cut = curves.map_curves(lambda c: c.upto(onset, inclusive=False))
    judged = cut.val if cut.val is not None and len(cut.val) else cut.train
    if judged is None or len(judged) < BEFORE_MIN_POINTS:
        return []
    # the plain rule, not a live monitor's memoised one: the cut curves are not the run's
    produced = rule_registry.Rule.run(rule, cut, **options.options_for(rule))
    return [
        replace(
            f,
            run=curves.run,
            message=f"{f.message} (before the divergence at step {onset:,})",
            evidence={**f.evidence, "judged_before_step": onset},
        )
        for f in produced
    ]


def _apply_deference(
    findings: list[Finding], chosen: list[rule_registry.Rule], exempt: Sequence[Finding] = ()
) -> list[Finding]:
    """Drop the findings of a rule that declares ``DEFERS_TO`` (problem kinds) when the run has a
    finding of such a kind, warning or worse: e.g. the swings of a run that diverges (growing
    as it blows up, or before it turns NaN) are part of the divergence, not a separate
    oscillation (the rule is judged again on the part before, see :func:`_judged_before`;
    those findings, ``exempt``, stay). A finding that does not ``supersede`` (a state present
    from the first evaluation on) explains nothing away."""
    defers = {r.code: tuple(getattr(r.module, "DEFERS_TO", ())) for r in chosen}
    kept = {id(f) for f in exempt}
    out = []
    for f in findings:
        kinds = tuple(f.defers_to) + (() if id(f) in kept else defers.get(f.code, ()))
        superseded = any(g is not f and _explains(g, kinds) for g in findings)
        if not superseded:
            out.append(f)
    return out


def analyze_curves(curves: CurveSet, options: Options | None = None) -> tuple[str, list[Finding]]:
    """Apply the selected rules to one run's curves: (verdict, findings sorted worst first)."""
    options = options or Options()
    findings: list[Finding] = []
    errors: list[str] = []
    chosen = options.rules()
    for rule in chosen:
        opts = options.options_for(rule)
        try:
            produced = rule.run(curves, **opts)
        except (TypeError, ValueError) as e:
            if opts:  # a bad option value from the user's config
                text = str(e)
                raise ValueError(
                    text if text.startswith(rule.code) else f"{rule.code}: {text}"
                ) from e
            errors.append(f"{rule.code} failed: {type(e).__name__}: {e}")
            continue
        except Exception as e:  # a rule bug must not hide the other rules' findings
            errors.append(f"{rule.code} failed: {type(e).__name__}: {e}")
            continue
        for f in produced:
            findings.append(replace(f, run=curves.run))
    before: list[Finding] = []
    for rule, onset in _deferring(findings, chosen):
        try:
            before += _judged_before(curves, rule, onset, options)
        except Exception as e:  # as for the rule's first run (its options were accepted then)
            errors.append(f"{rule.code} failed: {type(e).__name__}: {e}")
    findings = _apply_deference(findings + before, chosen, exempt=before)
    if errors:
        findings.append(
            Finding(
                code="CLI000",
                name="rule-error",
                kind="internal",
                severity="info",
                curve=None,
                start_step=None,
                end_step=None,
                confidence=1.0,
                message="internal error in a rule (please report it): " + "; ".join(errors),
            )
        )
    findings.sort(key=Finding.sort_key)
    n_train, n_val = len(curves.train) if curves.train else 0, len(curves.val) if curves.val else 0
    has_problem = any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"] for f in findings)
    if has_problem:
        verdict = "problems"
    elif max(n_train, n_val) < MIN_POINTS and not findings:
        verdict = "insufficient-data"
    else:
        verdict = "healthy"
    return verdict, findings


def analyze_run(run: Run, options: Options | None = None) -> RunReport:
    curves = run.curve_set()
    verdict, findings = analyze_curves(curves, options)
    summary = summarize(curves)
    if verdict == "insufficient-data":
        if curves.train is None and curves.val is None:
            summary["verdict_reason"] = (
                "no training or validation loss was identified among the tags "
                "(see the role reasons; --train-loss/--val-loss choose one)"
            )
        else:
            summary["verdict_reason"] = (
                f"fewer than {MIN_POINTS} finite points on the training and validation loss"
            )
    return RunReport(
        run=run.id,
        format=run.format,
        roles=run.roles.primary(),
        verdict=verdict,
        findings=findings,
        files=run.files,
        notes=run.notes,
        role_reasons=run.roles.reasons,
        summary=summary,
        hparams=plain_hparams(run.hparams),
        setup=curves.setup,
    )


def summarize(curves: CurveSet) -> dict[str, Any]:
    """Headline numbers for reports: final and best train/val loss, best checkpoint."""
    import numpy as np

    out: dict[str, Any] = {}
    for key, c in (("train", curves.train), ("val", curves.val)):
        if c is None or not len(c):
            continue
        fin = np.isfinite(c.values)
        out[f"{key}_points"] = int(len(c))
        if fin.any():
            v, s = c.values[fin], c.steps[fin]
            i = int(np.argmin(v))
            out[f"{key}_final"] = float(v[-1])
            out[f"{key}_best"] = float(v[i])
            out[f"{key}_best_step"] = int(s[i])
            out[f"{key}_last_step"] = int(c.steps[-1])
    if curves.val_metric is not None and len(curves.val_metric):
        v = curves.val_metric.values
        fin = np.isfinite(v)
        if fin.any():
            best = np.nanmax(v[fin]) if curves.val_metric.direction == "max" else np.nanmin(v[fin])
            out["val_metric"] = curves.val_metric.tag
            out["val_metric_final"] = float(v[fin][-1])
            out["val_metric_best"] = float(best)
    return out


def analyze(result: LoadResult, options: Options | None = None) -> Report:
    options = options or Options()
    options.rules()  # validate selection early
    report = Report(version=__version__, skipped=[s.to_dict() for s in result.skipped])
    for run in result.runs:
        report.runs.append(analyze_run(run, options))
    report.sweep = sweep_of(report.runs)
    return report


def check(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
    train_loss: str | None = None,
    val_loss: str | None = None,
    jobs: int | None = 1,
    cache: bool | str | os.PathLike = False,
    scheduler: str | None = None,
) -> Report:
    """Read every run under ``paths`` and diagnose it. The Python twin of ``curvelint check``.

    ``jobs``: worker processes (``None``: all cores; the default 1 checks in this process, so
    that a script calling ``check`` needs no ``if __name__ == "__main__"`` guard). ``cache``:
    True for the result cache in its default folder (:func:`analyzer.cache.default_dir`), a
    folder for another one, False (the default) for none. ``scheduler``: run the runs as Dask
    tasks (``"processes"``, ``"threads"`` or an address such as ``"tcp://host:8786"``; needs
    ``curvelint[dask]``), as ``check --scheduler``. A path may be the URL of a remote folder
    (``s3://bucket/runs``; needs ``curvelint[remote]``). Runs are streamed: each run's data is
    dropped once its report is made. Raises :class:`analyzer.errors.SetupError` when the
    scheduler or a remote folder cannot be used."""
    options = Options.build(select, ignore, rule_options, train_loss, val_loss)
    store = None
    if cache is not False and cache is not None:
        store = open_cache(None if cache is True else cache, options, paths)
    try:
        return collect(check_stream(paths, options, jobs=jobs, cache=store, scheduler=scheduler))[0]
    finally:
        if store is not None:
            store.close()


def collect(
    items: Iterable[StreamItem], roots: Iterable[Any] = (), texts: list[str | None] | None = None
) -> tuple[Report, LoadResult]:
    """The :class:`Report` of a :func:`check_stream`, and a :class:`LoadResult` with the runs
    it kept (``keep_runs``; what :func:`analyzer.report.html.render_html` draws) and ``roots``.
    ``texts``, when given, gets each run's JSON text (None where not made)."""
    report = Report(version=__version__)
    result = LoadResult(roots=[str(r) for r in roots])
    for item in items:
        if item.report is not None:
            report.runs.append(item.report)
            if texts is not None:
                texts.append(item.json)
        if item.run is not None:
            result.runs.append(item.run)
        report.skipped.extend(s.to_dict() for s in item.skipped)
        result.skipped.extend(item.skipped)
    report.sweep = sweep_of(report.runs)
    return report, result


def open_cache(
    directory: str | os.PathLike | None,
    options: Options,
    paths: str | os.PathLike | Iterable[str | os.PathLike] = (),
    *,
    warn: Any = None,
) -> Any:
    """The result cache for ``options`` in ``directory`` (None: the default folder), or None
    when that folder lies in one of the log folders ``paths`` (curvelint never writes there;
    ``warn`` is then told why)."""
    from . import cache as cache_mod

    folder = Path(directory).expanduser() if directory is not None else cache_mod.default_dir()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    target = folder.resolve()
    for p in paths:
        src = Path(p).resolve()
        if src.is_dir() and (target == src or src in target.parents):
            inside = target.relative_to(src).parts
            if not any(part.startswith(".") for part in inside):  # hidden: not a log folder
                if warn is not None:
                    warn(f"cache folder {folder} is inside the log folder {p}: not used")
                return None
    return cache_mod.ResultCache(folder, cache_fingerprint(options), warn=warn)


# --- streaming, parallel, cached checking ------------------------------------------------------
#
# check_stream: discovery yields RunSources; each is read -> roles assigned -> analysed -> turned
# into its RunReport, and only that small report is kept (the Run with its DataFrame is dropped
# unless keep_runs). With jobs > 1 the read+analyse steps run in a process pool, in chunks, with
# a bounded number of chunks in flight; results come back in discovery order. With a cache, a run
# whose files are unchanged is neither read nor analysed (see analyzer.cache).

#: chunks in flight per worker (bounds memory: results wait in order for the slowest chunk)
_IN_FLIGHT_PER_WORKER = 4
_MAX_CHUNK = 16


@dataclass
class StreamItem:
    """One step of :func:`check_stream`: a run's report (``run`` too when ``keep_runs``), or
    only skipped entries (a folder's discovery, a run that could not be read)."""

    report: RunReport | None = None
    run: Run | None = None
    skipped: list[Skipped] = field(default_factory=list)
    #: the report's :func:`analyzer.findings.run_json` when asked for (``json_text``)
    json: str | None = None


@dataclass
class _Task:
    src: RunSource
    root: Path
    prefix: str
    #: a cached report of a run read only for its curves (keep_runs)
    cached: RunReport | None = None
    key: str | None = None
    stamp: list | None = None
    hashes: dict[str, str] | None = None
    #: the local mirror of a remote folder the run is read from (analyzer.remote)
    mirror: Any = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:  # a worker needs no mirror (nor its fs)
        return {**self.__dict__, "mirror": None}


def default_jobs() -> int:
    """All the cores this process may use."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return max(1, count() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: a worker's answer for one run: its report, its Run (keep_runs), skipped entries, the report's
#: JSON text (json_text) and the cache row's bytes (a task with a cache key: encoded in the
#: worker, which leaves the parent only the writing; b"" when the result cannot be stored)
_Result = tuple[RunReport | None, "Run | None", list[Skipped], str | None, bytes | None]


def _shown(item: StreamItem, mirror: Any) -> StreamItem:
    """``item`` as the user sees it: for a run read from a remote folder's local mirror, every
    mention of the mirror's path (a reader's note, a skipped entry) names the URL instead."""
    if mirror is None:
        return item
    fix = mirror.display
    skipped = [Skipped(fix(s.path), fix(s.reason)) for s in item.skipped]
    report, text = item.report, item.json
    if text is not None:
        shown = mirror.display_json(text)
        if shown != text:  # else the report does not name it either (a lazy one stays so)
            text = shown
            report = _shown_report(report, fix)
    elif report is not None:
        report = _shown_report(report, fix)
    if item.run is not None:
        item.run.notes[:] = [fix(n) for n in item.run.notes]
        item.run.files[:] = [fix(f) for f in item.run.files]
    return StreamItem(report=report, run=item.run, skipped=skipped, json=text)


def _shown_report(report: RunReport | None, fix: Any) -> RunReport | None:
    if report is None:
        return None
    return RunReport(
        run=fix(report.run),
        format=report.format,
        roles=report.roles,
        verdict=report.verdict,
        findings=[replace(f, message=fix(f.message)) for f in report.findings],
        files=[fix(f) for f in report.files],
        notes=[fix(n) for n in report.notes],
        role_reasons=report.role_reasons,
        summary=report.summary,
        hparams={k: _shown_value(v, fix) for k, v in report.hparams.items()},
        setup=report.setup,
    )


def _shown_value(v: Any, fix: Any) -> Any:
    if isinstance(v, str):
        return fix(v)
    if isinstance(v, list):
        return [_shown_value(x, fix) for x in v]
    return v


def _work(task: _Task, options: Options, keep_runs: bool, json_text: bool = False) -> _Result:
    """Read, assign roles, analyse one run (in a worker or in-process); with ``json_text``
    also the report's JSON text (made in the worker: the indenting encoder is slow), and for a
    task with a cache key and no cached report the cache row (also made in the worker)."""
    from . import cache as cache_mod

    run, skipped = read_run(
        task.src, task.root, task.prefix, train_loss=options.train_loss, val_loss=options.val_loss
    )
    report = None
    if run is not None:
        report = task.cached if task.cached is not None else analyze_run(run, options)
    text = run_json(report) if json_text and report is not None else None
    blob = None
    if task.key is not None and task.cached is None:
        try:
            blob = cache_mod.encode_result(
                report,
                [(s.path, s.reason) for s in skipped],
                text,
                facts=facts(report).to_row() if report is not None else None,
            )
        except cache_mod.Unstorable:
            blob = b""
    return report, (run if keep_runs else None), skipped, text, blob


def _work_chunk(
    tasks: list[_Task], options: Options, keep_runs: bool, json_text: bool = False
) -> list[_Result]:
    return [_work(t, options, keep_runs, json_text) for t in tasks]


def _init_worker() -> None:
    """Import the analysis and the TensorBoard reader once per worker, before its first task
    (pandas, which the other readers need, is imported by the first run that needs it);
    Ctrl-C is the parent's to handle."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rule_registry.all_rules()
    from .readers.tensorboard import reader  # noqa: F401  (paid while the parent discovers)


def _ready() -> None:
    """A task that only makes sure its worker has started (see :meth:`_Pool.warm`)."""


#: a folder with this many entries or more is likely a sweep: a parallel check starts its
#: workers before discovering it (see :func:`_looks_like_a_sweep`)
_SWEEP_ENTRIES = 16

#: cache rows fetched and decoded at once by a check (one query; bounded memory)
_ROWS_AT_ONCE = 500


def _looks_like_a_sweep(paths: Sequence[str | os.PathLike]) -> bool:
    """Whether a local path to check is a folder with :data:`_SWEEP_ENTRIES` entries or more:
    then the workers are worth starting (and importing) while the parent discovers the runs.
    A single run's folder has a few entries; its check never uses the workers."""
    for p in paths:
        if remote.is_remote(p):
            continue
        try:
            with os.scandir(str(p)) as it:
                for k, _ in enumerate(it, 1):
                    if k >= _SWEEP_ENTRIES:
                        return True
        except OSError:  # a file, or not there: discovery says so
            continue
    return False


def _sniff_chunk(paths: list[Path]) -> list[tuple[str | None, str]]:
    return sniff_each(paths)


class _Pool:
    """A process pool created at the first chunk that needs one, or a Dask client
    (:mod:`analyzer.scheduler`, ``scheduler``) connected at once."""

    def __init__(self, jobs: int, scheduler: str | None = None):
        # local workers: never more than the cores this process may use (the work is CPU-bound:
        # more processes only add start-up and switching)
        self.jobs = jobs if scheduler is not None else min(jobs, default_jobs())
        self._ex: Any = None
        self.dask = scheduler is not None
        if scheduler is not None:
            from .scheduler import DaskPool

            self._ex = DaskPool(scheduler, jobs, code_hash())
            self.jobs = self._ex.workers

    def get(self, tasks: int | None = None):
        """The pool; created now (with at most ``tasks`` workers when that is known) if needed."""
        if self._ex is None:
            from concurrent.futures import ProcessPoolExecutor

            workers = self.jobs if tasks is None else max(1, min(self.jobs, tasks))
            self._ex = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker)
        return self._ex

    def warm(self) -> None:
        """Start every worker of the local pool now (each imports the analysis in
        :func:`_init_worker`), so that they are ready when discovery hands out the first files
        to sniff or runs to check."""
        ex = self.get()
        for _ in range(self.jobs):
            ex.submit(_ready)

    def close(self, cancel: bool = False) -> None:
        if self._ex is not None:
            if self.dask:
                self._ex.close(cancel=cancel)
            else:
                self._ex.shutdown(wait=True, cancel_futures=cancel)
            self._ex = None


def code_hash() -> str:
    """A hash of curvelint's code (every module of ``analyzer`` and ``rules``): part of the
    cache key, and compared with the Dask workers' (``--scheduler``); see
    :func:`analyzer.cache.code_hash`."""
    from . import cache as cache_mod

    return cache_mod.code_hash(Path(rule_registry.__file__).resolve().parent)


def cache_fingerprint(options: Options) -> str:
    """What a cached result depends on besides the run's files: curvelint's version and code
    (every module of ``analyzer`` and ``rules``), the libraries' versions, the selected rules,
    their options and the role overrides."""
    from . import cache as cache_mod

    return cache_mod.fingerprint(
        {
            "schema": cache_mod.SCHEMA,
            "curvelint": __version__,
            "code": code_hash(),
            "python": list(__import__("sys").version_info[:3]),
            # read without importing them (see cache_mod.library_version)
            "libs": [cache_mod.library_version(n) for n in ("numpy", "pandas", "scipy")],
            "rules": options.rule_codes(),
            "select": options.select,
            "ignore": options.ignore,
            "rule_options": options.rule_options,
            "train_loss": options.train_loss,
            "val_loss": options.val_loss,
        }
    )


def _side_files(folders: Mapping[Path, list[Path]]) -> dict[str, list[str]]:
    """Folder (as a string) -> the side files (:data:`SIDE_FILES`) it holds, for
    :func:`_dependencies`; one pass over a discovery's listing."""
    out: dict[str, list[str]] = {}
    for d, files in folders.items():
        sides = [str(f) for f in files if f.name in SIDE_FILES]
        out[str(d)] = sides
    return out


def _discover_local(
    p: str | os.PathLike,
    sniff: Any,
    input_format: str | None,
    cache: Any,
) -> tuple[Discovery, dict[str, list[str]]]:
    """:func:`discover` of a local path and the side files of its folders (:func:`_side_files`;
    empty without a cache). With a cache, the discovery of a folder whose tree is unchanged
    since it was stored (the stat of every folder and file walked:
    :func:`analyzer.cache.tree_stamp`) is reused instead of walked and grouped again: a
    re-check of a sweep of thousands of unchanged runs spent most of its time there. A walk
    that met unreadable entries, or a tree changed in the last seconds, is not stored."""
    from . import cache as cache_mod

    if cache is None or not os.path.isdir(p):
        disc = discover(p, sniff=sniff, input_format=input_format)
        return disc, (_side_files(disc.folders) if cache is not None else {})
    key = cache.key("discovery\0" + os.path.abspath(p) + "\0" + os.fspath(p))
    blob = cache.get_raw(key)
    if blob is not None:
        try:
            row = json.loads(zlib.decompress(blob))
            digest, _ = cache_mod.tree_stamp(row["folders"] + row["files"])
            if digest is not None and digest == row["digest"]:
                return _discovery_from_row(row)
        except Exception:  # a corrupt row: walk again (and store it anew)
            pass
    disc = discover(p, sniff=sniff, input_format=input_format)
    sides = _side_files(disc.folders)
    if disc.walk_errors == 0:
        folders = [str(d) for d in disc.folders]
        files = [str(f) for fs in disc.folders.values() for f in fs]
        digest, racy = cache_mod.tree_stamp(folders + files)
        if digest is not None and not racy:
            row = {
                "digest": digest,
                "folders": folders,
                "files": files,
                "root": os.fspath(disc.root),
                "runs": [
                    [s.run, s.format, str(s.base), [str(f) for f in s.files], s.notes]
                    for s in disc.runs
                ],
                "skipped": [[k.path, k.reason] for k in disc.skipped],
                "sides": {d: v for d, v in sides.items() if v},
            }
            cache.put(key, [], {}, zlib.compress(json.dumps(row).encode(), 1))
    return disc, sides


def _discovery_from_row(row: dict[str, Any]) -> tuple[Discovery, dict[str, list[str]]]:
    """The discovery stored by :func:`_discover_local` and its side files. Its ``folders`` is
    left empty: the side files, all the engine needs of it, are stored instead."""
    disc = Discovery(
        root=Path(row["root"]),
        runs=[
            RunSource(run, fmt, Path(base), [Path(f) for f in files], list(notes))
            for run, fmt, base, files, notes in row["runs"]
        ],
        skipped=[Skipped(a, b) for a, b in row["skipped"]],
    )
    sides: dict[str, list[str]] = {d: [] for d in row["folders"]}
    sides.update(row["sides"])
    return disc, sides


def _dependencies(src: RunSource, sides: Mapping[str, list[str]]) -> list[str]:
    """The files a run's result depends on: its own files and the side files beside them (all
    of an MLflow run folder)."""
    own = [os.fspath(f) for f in src.files]
    extra: set[str] = set()
    if src.format == "mlflow":
        for dp, dns, fns in os.walk(src.base):
            dns[:] = [d for d in dns if not d.startswith(".")]
            extra.update(os.path.join(dp, fn) for fn in fns)
    else:
        for parent in {os.path.dirname(f) for f in own}:
            listed = sides.get(parent)
            if listed is None:  # not walked (a file given on the command line)
                try:
                    names = [e.name for e in os.scandir(parent)]
                except OSError:
                    names = []
                listed = [os.path.join(parent, n) for n in names if n in SIDE_FILES]
            extra.update(listed)
    if not extra:
        return own
    return own + sorted(extra - set(own))


def _to_fetch(src: RunSource, sides: Mapping[str, list[str]]) -> list[str]:
    """The files of a remote run that are downloaded before it is read: its
    :func:`_dependencies`, but of an MLflow run folder only what the reader reads (not the
    models among its artifacts)."""
    deps = _dependencies(src, sides)
    if src.format != "mlflow":
        return deps
    from .readers.mlflow import RUN_FOLDER_PARTS

    parts = tuple(os.path.join(os.fspath(src.base), p) for p in RUN_FOLDER_PARTS)
    under = tuple(p + os.sep for p in parts)
    return [d for d in deps if d in parts or d.startswith(under)]


def check_stream(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    options: Options | None = None,
    *,
    jobs: int | None = 1,
    cache: Any = None,
    keep_runs: bool = False,
    progress: Any = None,
    json_text: bool = False,
    input_format: str | None = None,
    scheduler: str | None = None,
    fetch_dir: str | os.PathLike | None = None,
) -> Iterator[StreamItem]:
    """Check every run under ``paths``, one :class:`StreamItem` at a time, in the order of
    :func:`analyze` (paths in order; per path its discovery's skipped entries, then its runs in
    discovery order). Only each run's :class:`RunReport` is kept (and its ``Run`` when
    ``keep_runs``, e.g. for the HTML report's charts).

    ``jobs``: worker processes (``None``: all cores; 1: in this process, no pool). ``cache``:
    an :class:`analyzer.cache.ResultCache` (unchanged runs are then neither read nor analysed)
    or None. ``progress``: called as ``progress(done, total)`` after each run (``total`` grows
    as folders are discovered). ``json_text``: each item also carries its report's JSON text
    (for :class:`analyzer.findings.JsonWriter` or :meth:`Report.to_json`'s ``run_texts``).
    ``input_format``: the reader of the paths that are files (``--input-format``).
    ``scheduler``: run the read+analyse tasks on Dask instead of a local process pool
    (:mod:`analyzer.scheduler`: ``"processes"``, ``"threads"`` or a scheduler address such as
    ``"tcp://host:8786"``; ``jobs`` is then the number of local workers); the report is the same.

    A path may be a URL (``s3://bucket/runs``, ``gs://...``, ``memory://...``): it is listed with
    fsspec and its runs' files are downloaded to a local mirror (:mod:`analyzer.remote`) in
    ``fetch_dir`` (default: ``remote/`` in the cache's folder, or a temporary folder removed at
    the end when there is no cache); what is reported names the URL, never the mirror.

    Raises FileNotFoundError for a path that does not exist, ValueError for a bad rule option
    value (as :func:`analyze`), and :class:`analyzer.errors.SetupError` for a scheduler or a
    remote folder that cannot be used (its message names the fix)."""
    import tempfile
    from collections import deque

    from . import cache as cache_mod

    options = options or Options()
    options.rule_codes()  # validate selection early (the rules are imported by the first run read)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths, dropped = distinct_roots(list(paths))
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    many = len(paths) > 1
    pool = _Pool(jobs, scheduler)
    jobs = pool.jobs
    if (
        jobs > 1
        and not pool.dask
        and (cache is None or getattr(cache, "empty", lambda: False)())
        and _looks_like_a_sweep(paths)
    ):
        # a first check of a sweep will need the workers: start them now, while the parent
        # walks the folder (not for a re-check, which the cache may answer without them)
        pool.warm()
    done = total = 0
    temp_fetch: str | None = None

    def fetch_folder() -> Path:
        nonlocal temp_fetch
        if fetch_dir is not None:
            return Path(fetch_dir)
        if cache is not None:
            return Path(cache.directory) / "remote"
        if temp_fetch is None:
            temp_fetch = tempfile.mkdtemp(prefix="curvelint-remote-")
        return Path(temp_fetch)

    def sniff(candidates: Sequence[Path]) -> list[tuple[str | None, str]]:
        out: list[Any] = [None] * len(candidates)
        todo: list[int] = []
        stamps: dict[int, tuple[str, list, list[int]]] = {}
        for i, p in enumerate(candidates):
            if cache is None:
                todo.append(i)
                continue
            key = cache.key("sniff\0" + os.path.abspath(p))
            st, doubt = cache_mod.stamp([p])
            blob = cache.get(key, st, doubt)
            if blob is not None:
                try:
                    fmt, reason = json.loads(blob)
                    out[i] = (fmt, reason)
                    continue
                except (ValueError, TypeError):
                    pass
            stamps[i] = (key, st, doubt)
            todo.append(i)
        if not todo:
            return out
        files = [candidates[i] for i in todo]
        if jobs > 1 and len(files) >= 64:
            size = max(8, -(-len(files) // (jobs * 4)))
            chunks = [files[k : k + size] for k in range(0, len(files), size)]
            results = [r for part in pool.get().map(_sniff_chunk, chunks) for r in part]
        else:
            results = sniff_each(files)
        for i, res in zip(todo, results, strict=True):
            out[i] = res
            if cache is not None and i in stamps:
                key, st, doubt = stamps[i]
                blob = json.dumps(list(res)).encode()
                cache.put(key, st, cache_mod.doubt_hashes(st, doubt), blob)
        return out

    def finish(task: _Task, res: _Result) -> StreamItem:
        report, run, skipped, text, blob = res
        if cache is not None and blob:
            cache.put(task.key or "", task.stamp or [], task.hashes or {}, blob)
        return _shown(StreamItem(report=report, run=run, skipped=skipped, json=text), task.mirror)

    # the ordered window: ready items and chunks in flight, yielded in order
    window: deque[Any] = deque()
    in_flight = 0
    limit = jobs * _IN_FLIGHT_PER_WORKER

    def ready(item: StreamItem, is_run: bool = True) -> None:
        window.append((item, is_run))

    def drain(until: int) -> Iterator[StreamItem]:
        """Yield from the head of the window while the head is ready, or while more than
        ``until`` chunks are in flight (waiting for the oldest)."""
        nonlocal in_flight, done
        while window:
            head = window.popleft()
            if isinstance(head[0], StreamItem):
                item, is_run = head
                yield item
                if is_run:
                    done += 1
                    if progress is not None:
                        progress(done, total)
                continue
            tasks, fut = head
            if in_flight <= until and not fut.done():
                window.appendleft(head)
                return
            in_flight -= 1
            for t, res in zip(tasks, fut.result(), strict=True):
                yield finish(t, res)
                done += 1
            if progress is not None:
                progress(done, total)

    try:
        if dropped:  # paths given twice, or inside another one given
            ready(StreamItem(skipped=dropped), is_run=False)
        for p in paths:
            prefix = root_prefix(p) if many else ""
            mirror = None
            if remote.is_remote(p):
                mirror = remote.open_mirror(str(p), fetch_folder())
                # what discovery opens: the table candidates it sniffs, the trainer states it
                # chooses among; it only lists the other files (empty stand-ins until read)
                mirror.fetch(f for f in mirror.tree_files() if f.name in OPENED_BY_DISCOVERY)

                def fetch_and_sniff(
                    candidates: Sequence[Path], m: Any = mirror
                ) -> list[tuple[str | None, str]]:
                    m.fetch(candidates)
                    return sniff(candidates)

                disc = discover(mirror.local, sniff=fetch_and_sniff)
            else:
                # a Dask worker (another machine, another working folder) needs absolute paths
                disc, sides = _discover_local(
                    os.path.abspath(p) if pool.dask else p, sniff, input_format, cache
                )
            if pool.dask:  # the workers read the runs by their paths
                pool.get().check_folder(mirror.local if mirror is not None else p)
            if mirror is not None:  # every file a run's result depends on, before its stamp
                sides = _side_files(disc.folders)
                mirror.fetch(f for src in disc.runs for f in _to_fetch(src, sides))
                disc.skipped.extend(Skipped(a, b) for a, b in mirror.skipped)
                disc.skipped.sort(key=lambda s: natural_key(s.path))
            if disc.skipped:
                skipped = [Skipped(prefix + s.path, s.reason) for s in disc.skipped]
                ready(_shown(StreamItem(skipped=skipped), mirror), is_run=False)
            root = disc.root
            # in discovery order: runs to check (_Task) and answers from the cache (StreamItem)
            plan: list[_Task | StreamItem] = []
            tasks = [_Task(src, root, prefix, mirror=mirror) for src in disc.runs]
            total += len(tasks)
            # the cache's rows a few hundred runs at a time (a few queries, little memory)
            for at in range(0, len(tasks), _ROWS_AT_ONCE):
                part = tasks[at : at + _ROWS_AT_ONCE]
                blobs: list[bytes | None] = [None] * len(part)
                doubts: list[list[int]] = [[] for _ in part]
                if cache is not None:
                    wanted = []
                    for task in part:
                        src = task.src
                        deps = _dependencies(src, sides)
                        ident = "\0".join(
                            [
                                src.format,
                                prefix + src.run,
                                os.path.abspath(root),
                                os.path.abspath(src.base),
                                *deps,
                            ]
                        )
                        task.key = cache.key(ident)
                        st, doubt = cache_mod.stamp(deps)
                        task.stamp = st
                        wanted.append((task.key, st, doubt))
                    # their rows, in one query
                    blobs = cache.get_many(wanted)
                    doubts = [w[2] for w in wanted]
                for task, blob, doubt in zip(part, blobs, doubts, strict=True):
                    if cache is not None:
                        hit = None
                        if blob is not None:
                            try:
                                # a JSON report needs only the stored text: decode the rest lazily
                                hit = cache_mod.decode_result(
                                    blob, lazy=json_text and not keep_runs
                                )
                            except Exception:  # a corrupt row: the run is read again, row rewritten
                                hit = None
                        if hit is not None and not keep_runs:
                            report, cached_skips, text = hit
                            skips = [Skipped(a, b) for a, b in cached_skips]
                            plan.append(
                                _shown(StreamItem(report=report, skipped=skips, json=text), mirror)
                            )
                            continue
                        if hit is not None:
                            task.cached = hit[0]
                        task.hashes = cache_mod.doubt_hashes(task.stamp or [], doubt)
                    plan.append(task)
            n_tasks = sum(isinstance(x, _Task) for x in plan)
            if not pool.dask and (jobs == 1 or n_tasks < 2):
                yield from drain(limit)
                for x in plan:
                    if isinstance(x, _Task):
                        x = finish(x, _work(x, options, keep_runs, json_text))
                    ready(x)
                    yield from drain(limit)
                continue
            size = max(1, min(_MAX_CHUNK, n_tasks // (jobs * 8)))
            ex = pool.get(n_tasks)
            chunk: list[_Task] = []
            # a chunk holds consecutive runs only: a cached answer after it waits in the window
            for entry in [*plan, None]:
                if isinstance(entry, _Task):
                    chunk.append(entry)
                    if len(chunk) < size:
                        continue
                if chunk:
                    window.append(
                        (chunk, ex.submit(_work_chunk, chunk, options, keep_runs, json_text))
                    )
                    in_flight += 1
                    chunk = []
                    yield from drain(limit - 1)
                if isinstance(entry, StreamItem):
                    ready(entry)
        yield from drain(-1)
    finally:
        pool.close(cancel=True)
        if cache is not None:
            cache.flush()
        if temp_fetch is not None:
            import shutil

            shutil.rmtree(temp_fetch, ignore_errors=True)
