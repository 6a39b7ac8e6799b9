"""Every rule has a stable code, a name, a kind and the documented sections."""

import re

import pytest

import rules
from analyzer.curves import CurveSet


@pytest.mark.parametrize("rule", rules.all_rules(), ids=lambda r: r.code)
def test_rule_is_documented(rule):
    assert re.fullmatch(r"[A-Z]{3}\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    sections = rule.sections()
    for title in rules.SECTIONS:
        assert sections.get(title), f"{rule.code} lacks '{title}'"
    assert rule.summary


@pytest.mark.parametrize("rule", rules.all_rules(), ids=lambda r: r.code)
def test_rule_runs_on_empty_curves(rule):
    assert rule.run(CurveSet()) == []


def test_codes_are_unique_and_kinds_cover_the_four_problems():
    rs = rules.all_rules()
    assert len({r.code for r in rs}) == len(rs)
    assert {"plateau", "oscillation", "overfitting", "divergence"} <= {r.kind for r in rs}


def test_select_and_ignore_by_prefix():
    assert {r.code for r in rules.select(["DIV"])} == {"DIV001", "DIV002"}
    assert "OVF001" not in {r.code for r in rules.select(None, ["OVF"])}
    with pytest.raises(KeyError):
        rules.select(["XYZ"])


def test_unknown_option_is_an_error():
    with pytest.raises(ValueError, match="unknown option"):
        rules.get("OVF001").run(CurveSet(), nonsense=1)


def test_every_rule_declares_what_it_is():
    from analyzer.findings import SEVERITIES

    for rule in rules.all_rules():
        mod = rule.module
        assert mod.SEVERITY in SEVERITIES, rule.code
        assert isinstance(mod.TRANSIENT, bool), rule.code
