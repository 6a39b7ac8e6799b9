"""Run the rules over runs and collect findings into a report."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import rules as rule_registry

from . import __version__
from .curves import CurveSet
from .findings import SEVERITY_RANK, Finding, Report, RunReport
from .runs import LoadResult, Run, load

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
                rule_registry.select(*args)
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

    def options_for(self, rule: rule_registry.Rule) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        for key, val in self.rule_options.items():
            if rule_registry.get(key).code == rule.code:
                opts.update({k.replace("-", "_"): v for k, v in val.items()})
        return opts


def _finite_count(c) -> int:
    return int(np.isfinite(c.values).sum()) if c is not None else 0


def _apply_deference(findings: list[Finding], chosen: list[rule_registry.Rule]) -> list[Finding]:
    """Drop the findings of a rule that declares ``DEFERS_TO`` (problem kinds) when the run has a
    finding of such a kind, warning or worse: e.g. the swings of a run that diverges (growing
    as it blows up, or before it turns NaN) are part of the divergence, not a separate
    oscillation."""
    defers = {r.code: tuple(getattr(r.module, "DEFERS_TO", ())) for r in chosen}
    out = []
    for f in findings:
        kinds = defers.get(f.code, ()) + tuple(f.defers_to)
        superseded = any(
            g.kind in kinds and g is not f and SEVERITY_RANK[g.severity] >= SEVERITY_RANK["warning"]
            for g in findings
        )
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
    findings = _apply_deference(findings, chosen)
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
    )


def summarize(curves: CurveSet) -> dict[str, Any]:
    """Headline numbers for reports: final and best train/val loss, best checkpoint."""
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
    return report


def check(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
    train_loss: str | None = None,
    val_loss: str | None = None,
) -> Report:
    """Read every run under ``paths`` and diagnose it. The Python twin of ``curvelint check``."""
    options = Options.build(select, ignore, rule_options, train_loss, val_loss)
    return analyze(load(paths, train_loss=train_loss, val_loss=val_loss), options)
