"""Table-driven cases per rule (tests/rule_cases/<CODE>.toml), and the rule docs checked against them.

Each case gives a run's curves (``train``, ``val``, ``lr``, ``val_metric``: lists of numbers, "nan"
and "inf" allowed; steps are the point index times ``step_every``, or ``<curve>_every`` for one
curve, e.g. ``val_every = 10`` for an evaluation every 10 steps, starting at ``<curve>_start``),
the rule's ``options``, and
whether the rule must flag it (``expect``, optionally at ``severity``). Every case is also run with
the losses scaled by 1e-4 and 1e4 and must give the same verdict (``scale_free = false`` opts out,
with a comment saying why). A case marked ``doc = "flagged"`` or ``"healthy"`` is the rule's
documented example: every number sequence in the docstring's *Example* section must be a curve of
such a case (its ``quote`` when the docs abridge it, else its training or validation loss), and
every such case must be quoted there.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import rules
from analyzer.curves import Curve, CurveSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CASES_DIR = Path(__file__).parent / "rule_cases"
SECTIONS = {"flagged": "Example (flagged)", "healthy": "Example (healthy)"}
ROLES = {
    "train": ("loss", "train_loss", "min"),
    "val": ("val_loss", "val_loss", "min"),
    "lr": ("lr", "lr", None),
    "val_metric": ("val_accuracy", "val_metric", "max"),
}
LOSSES = ("train", "val")


def _load() -> dict[str, list[dict]]:
    out = {}
    for p in sorted(CASES_DIR.glob("*.toml")):
        with open(p, "rb") as fh:
            out[p.stem] = tomllib.load(fh)["case"]
    return out


CASES = _load()
ALL = [(code, c) for code, cases in CASES.items() for c in cases]


def _values(xs) -> np.ndarray:
    return np.array([float(x) for x in xs], dtype=float)


def curves_of(case: dict, scale: float = 1.0) -> CurveSet:
    parts = {}
    for key, (tag, role, direction) in ROLES.items():
        if key in case:
            every = int(case.get(f"{key}_every", case.get("step_every", 1)))
            first = int(case.get(f"{key}_start", 0))
            v = _values(case[key]) * (scale if key in LOSSES else 1.0)
            steps = first + np.arange(len(v), dtype=np.int64) * every
            parts[key] = Curve(tag, role, direction, steps, v)
    return CurveSet(run="case", **parts)


def verdict(code: str, case: dict, scale: float = 1.0) -> list:
    return rules.get(code).run(curves_of(case, scale), **case.get("options", {}))


@pytest.mark.parametrize(("code", "case"), ALL, ids=[f"{code}: {c['name']}" for code, c in ALL])
def test_case(code, case):
    found = [f for f in verdict(code, case) if f.code == code]
    if case["expect"] == "flagged":
        assert found, "not flagged"
        if "severity" in case:
            assert {f.severity for f in found} == {case["severity"]}
    else:
        assert case["expect"] == "healthy"
        assert not found, found[0].message


@pytest.mark.parametrize(
    ("code", "case"),
    [(code, c) for code, c in ALL if c.get("scale_free", True)],
    ids=[f"{code}: {c['name']}" for code, c in ALL if c.get("scale_free", True)],
)
@pytest.mark.parametrize("scale", [1e-4, 1e4])
def test_case_is_scale_free(code, case, scale):
    assert bool(verdict(code, case, scale)) == bool(verdict(code, case))


def test_every_rule_has_flagged_and_healthy_cases():
    for rule in rules.all_rules():
        kinds = {c["expect"] for c in CASES.get(rule.code, [])}
        assert kinds == {"flagged", "healthy"}, f"{rule.code}: {sorted(kinds)}"
        docs = {c.get("doc") for c in CASES[rule.code]}
        assert {"flagged", "healthy"} <= docs, f"{rule.code}: documented examples have no case"


def doc_sequences(text: str) -> list[list[float]]:
    """Number sequences quoted in ``text``: double-backticked runs of three or more
    comma-separated numbers (a trailing ``...`` is dropped)."""
    out = []
    for quoted in re.findall(r"``([^`]*)``", text):
        items = [t.strip() for t in quoted.split(",") if t.strip() not in ("", "...")]
        try:
            seq = [float(t) for t in items]
        except ValueError:
            continue
        if len(seq) >= 3:
            out.append(seq)
    return out


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True)
    )


def _quoted(case: dict) -> list[list[float]]:
    if "quote" in case:
        return [[float(x) for x in case["quote"]]]
    return [[float(x) for x in case[k]] for k in LOSSES if k in case]


@pytest.mark.parametrize("code", sorted(CASES))
def test_documented_examples_are_cases(code):
    sections = rules.get(code).sections()
    for which, title in SECTIONS.items():
        quoted = doc_sequences(sections.get(title, ""))
        cases = [c for c in CASES[code] if c.get("doc") == which]
        for seq in quoted:
            assert any(_same(seq, q) for c in cases for q in _quoted(c)), (
                f"{code} {title}: {seq} is not the curve of a case with doc = {which!r}"
            )
        if quoted:
            for c in cases:
                assert any(_same(q, seq) for q in _quoted(c) for seq in quoted), (
                    f"{code} {title}: case {c['name']!r} is not quoted in the docs"
                )
