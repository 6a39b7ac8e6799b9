"""curvelint rules: one module per rule.

Each module has a stable ``CODE`` (three letters, three digits), a hyphenated ``NAME``, the ``KIND``
of problem it reports, the ``SEVERITY`` of its findings (unless a finding says otherwise), whether
they may be ``TRANSIENT`` (a passing state of a run still training: a live monitor waits for a
second sighting), a docstring with the sections *What it detects*, *Why it matters*,
*What to do*, *Example (flagged)* and *Example (healthy)* (the examples are cases of
``tests/rule_cases/<CODE>.toml``), and a pure function ``check(curves, **options) -> list[Finding]``
whose keyword defaults are the rule's options. Findings are built with ``_common.finding`` and carry
the chart marks the HTML report draws.

    from rules import overfitting
    overfitting.check(curves, min_rise=3.0)

A module may also set ``DEFERS_TO`` (problem kinds): the engine then drops its findings when the
run has a finding of such a kind, warning or worse, and judges the rule again on the part of the
run before the earliest such finding when that part covers at least half of the run (OSC001
defers to divergence: LABELS-SPEC judges the other kinds on what came before it).

Adding a rule is adding a module here and its name to ``MODULES``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, Protocol, TypeVar

MODULES = [
    "divergence",
    "explosion",
    "plateau",
    "oscillation",
    "overfitting",
    "still_improving",
    "val_below_train",
    "lr_schedule",
]

SECTIONS = (
    "What it detects",
    "Why it matters",
    "What to do",
    "Example (flagged)",
    "Example (healthy)",
)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    kind: str
    module: ModuleType

    @property
    def summary(self) -> str:
        return (self.module.__doc__ or "").strip().splitlines()[0]

    @property
    def options(self) -> dict[str, Any]:
        return dict(_options(self.module))

    def sections(self) -> dict[str, str]:
        return parse_doc(self.module.__doc__ or "")

    def run(self, curves, **options):
        known = _options(self.module)
        unknown = [k for k in options if k not in known]
        if unknown:
            raise ValueError(
                f"{self.code}: unknown option(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known)) or '(none)'}"
            )
        from ._common import condensed

        return self.module.check(condensed(curves), **options)


@cache
def _options(module: ModuleType) -> dict[str, Any]:
    """The keyword-only parameters of ``module.check`` with their defaults (the rule's options),
    read once per rule: ``inspect.signature`` is slow next to a rule's run on a short curve.
    Callers must not change the dict (``Rule.options`` hands out a copy)."""
    sig = inspect.signature(module.check)
    return {
        n: p.default for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def parse_doc(doc: str) -> dict[str, str]:
    """Split a rule docstring into its titled sections (title underlined with dashes)."""
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, list[str]] = {}
    current = "summary"
    out[current] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()) and line.strip():
            current = line.strip()
            out[current] = []
            i += 2
            continue
        out[current].append(line)
        i += 1
    return {k: "\n".join(v).strip() for k, v in out.items()}


_CACHE: list[Rule] | None = None


def all_rules() -> list[Rule]:
    global _CACHE
    if _CACHE is None:
        rules = []
        for name in MODULES:
            mod = importlib.import_module(f"rules.{name}")
            rules.append(Rule(mod.CODE, mod.NAME, mod.KIND, mod))
        _CACHE = sorted(rules, key=lambda r: r.code)
    return list(_CACHE)


def get(code_or_name: str) -> Rule:
    key = code_or_name.strip()
    for r in all_rules():
        if key.upper() == r.code or key.lower() == r.name:
            return r
    known = ", ".join(f"{r.code} ({r.name})" for r in all_rules())
    raise KeyError(f"unknown rule {code_or_name!r}; known rules: {known}")


def select(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> list[Rule]:
    """Rules whose code starts with a selected prefix (or matches a name) and no ignored one."""
    return choose(all_rules(), select, ignore)


class _Named(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def choose(
    rules: Sequence[N], select: Iterable[str] | None, ignore: Iterable[str] | None
) -> list[N]:
    """Of ``rules`` (anything with a ``code`` and a ``name``, in order), those whose code starts
    with a selected prefix (or whose name is selected; "ALL" selects all) and none ignored;
    KeyError for a pattern that matches no rule. Shared with :mod:`analyzer.rule_index`, which
    selects without importing the rule modules."""

    def matches(rule: N, pat: str) -> bool:
        pat = pat.strip()
        return rule.code.startswith(pat.upper()) or rule.name == pat.lower() or pat.upper() == "ALL"

    def check_known(pats: Iterable[str]) -> list[str]:
        pats = [p for p in pats if p.strip()]
        for p in pats:
            if not any(matches(r, p) for r in rules):
                known = ", ".join(r.code for r in rules)
                raise KeyError(f"unknown rule code or prefix {p!r}; known: {known}")
        return pats

    sel = check_known(select or [])
    ign = check_known(ignore or [])
    chosen = [r for r in rules if not sel or any(matches(r, p) for p in sel)]
    return [r for r in chosen if not any(matches(r, p) for p in ign)]
