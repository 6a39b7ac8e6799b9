"""The rules' codes, names, kinds and summaries, and the ``--select``/``--ignore`` selection,
without importing the rules.

Importing the rules imports numpy and every module of :mod:`analyzer.trends`; a ``check`` whose
runs are all answered from the result cache needs only the codes of the selected rules (part of
the cache key) and the check that ``--select``/``--ignore`` name known rules. :func:`index` reads
each rule module's ``CODE``, ``NAME`` and ``KIND`` lines and its docstring's first line from
its source (a module where one is not a plain string literal, or one already imported, is asked
directly), and :func:`select_codes` selects as :func:`rules.select` does, with the same error;
``curvelint rules`` lists the index. The analysis itself uses :mod:`rules`;
``tests/test_rule_index.py`` checks that both agree.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rules as rule_registry


@dataclass(frozen=True)
class RuleName:
    """What ``curvelint rules`` lists of a rule, as :class:`rules.Rule` gives it."""

    code: str
    name: str
    kind: str
    #: the first line of the module's docstring (:attr:`rules.Rule.summary`)
    summary: str


def _literal(text: str, var: str) -> str | None:
    """The string assigned to ``var`` at the top level of a module's source ``text``, when it is
    assigned once, a plain string literal; else None."""
    found = re.findall(
        rf"^{var}\s*(?::\s*str\s*)?=\s*(['\"])([^'\"\\\n]*)\1[ \t]*(?:#.*)?$", text, re.M
    )
    assigned = re.findall(rf"^{var}\b\s*(?::[^=\n]*)?=", text, re.M)
    if len(found) != 1 or len(assigned) != 1:
        return None
    return found[0][1]


def from_source(module: str) -> RuleName | None:
    """The code and name of the rule module ``rules.<module>`` as its source assigns them, or
    None when they are not plain string literals assigned once (or the file cannot be read)."""
    folder = Path(rule_registry.__file__).resolve().parent
    try:
        text = (folder / f"{module}.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    code, name, kind = (_literal(text, v) for v in ("CODE", "NAME", "KIND"))
    summary = _summary(text)
    if code is None or name is None or kind is None or summary is None:
        return None
    return RuleName(code, name, kind, summary)


_DOCSTRING = re.compile(r'\A(?:[ \t]*(?:#[^\n]*)?\n)*("{3}|\'{3})(.*?)\1', re.S)


def _summary(text: str) -> str | None:
    """The first line of the module docstring of the source ``text``, when it is a plain
    triple-quoted string without escapes; else None."""
    m = _DOCSTRING.match(text)
    if m is None or "\\" in m.group(2) or not m.group(2).strip():
        return None
    return m.group(2).strip().splitlines()[0]


@cache
def index() -> tuple[RuleName, ...]:
    """Every registered rule (:data:`rules.MODULES`), sorted by code as :func:`rules.all_rules`."""
    out = []
    for module in rule_registry.MODULES:
        qual = f"{rule_registry.__name__}.{module}"
        found = None if qual in sys.modules else from_source(module)
        if found is None:
            mod = importlib.import_module(qual)
            doc = (mod.__doc__ or "").strip().splitlines()
            found = RuleName(mod.CODE, mod.NAME, mod.KIND, doc[0] if doc else "")
        out.append(found)
    return tuple(sorted(out, key=lambda r: r.code))


def select_codes(
    select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
) -> list[str]:
    """The codes :func:`rules.select` chooses (in the same order), or its KeyError for a
    pattern that matches no rule."""
    return [r.code for r in rule_registry.choose(index(), select, ignore)]
