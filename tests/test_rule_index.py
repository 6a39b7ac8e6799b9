"""analyzer.rule_index: the rules' codes and the --select/--ignore selection without importing the
rules must agree with the registry (rules.all_rules / rules.select), errors included."""

from __future__ import annotations

import pytest

import rules
from analyzer import rule_index
from analyzer.engine import Options
from analyzer.errors import OptionsError


def test_every_rule_module_is_read_from_its_source():
    for module in rules.MODULES:
        mod = __import__(f"rules.{module}", fromlist=["CODE"])
        assert rule_index.from_source(module) == rule_index.RuleName(mod.CODE, mod.NAME), module


def test_index_is_the_registry():
    assert [(r.code, r.name) for r in rule_index.index()] == [
        (r.code, r.name) for r in rules.all_rules()
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ('CODE = "ABC001"\n', "ABC001"),
        ("CODE = 'ABC001'  # a comment\n", "ABC001"),
        ('CODE: str = "ABC001"\n', "ABC001"),
        ('CODE = "ABC" + "001"\n', None),  # not a plain literal: the module is imported instead
        ("CODE = PREFIX\n", None),
        ('CODE = "ABC001"\nCODE = "ABC002"\n', None),  # assigned twice
        ('CODE = "ABC001"\nCODE: str = CODE.lower()\n', None),
        ("X = 1\n", None),
        ('    CODE = "ABC001"\n', None),  # not at the top level
    ],
)
def test_literal(text, expected):
    assert rule_index._literal(text, "CODE") == expected


PATTERNS = [
    [],
    ["ALL"],
    ["all"],
    ["PLT"],
    ["plt001"],
    ["DIV", "OSC001"],
    ["loss-plateau"],
    [" OVF001 ", ""],
    ["P"],
    ["GAP001", "LRS"],
]


@pytest.mark.parametrize("select", PATTERNS)
@pytest.mark.parametrize("ignore", [[], ["PLT002"], ["DIV"], ["still-improving", "ALL"]])
def test_selection_is_the_registry_selection(select, ignore):
    want = [r.code for r in rules.select(select, ignore)]
    assert rule_index.select_codes(select, ignore) == want
    assert Options.build(select=select, ignore=ignore).rule_codes() == want


@pytest.mark.parametrize("select, ignore", [(["XYZ"], []), ([], ["PLT9"]), (["PLT", "nope"], [])])
def test_unknown_pattern_same_error(select, ignore):
    with pytest.raises(KeyError) as registry:
        rules.select(select, ignore)
    with pytest.raises(KeyError) as light:
        rule_index.select_codes(select, ignore)
    assert light.value.args == registry.value.args
    with pytest.raises(OptionsError, match="unknown rule code or prefix"):
        Options.build(select=select, ignore=ignore)


def test_rule_codes_with_rule_options_use_the_registry():
    opts = Options.build(select=["PLT"], rule_options={"PLT001": {}})
    assert opts.rule_codes() == [r.code for r in opts.rules()] == ["PLT001", "PLT002"]
