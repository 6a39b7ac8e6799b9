"""analyzer.rule_index: the rules' codes, names, kinds, summaries and the --select/--ignore
selection, without importing the rules, must agree with the registry (rules.all_rules /
rules.select), errors included."""

from __future__ import annotations

import pytest

import rules
from analyzer import rule_index
from analyzer.engine import Options
from analyzer.errors import OptionsError


def _registry() -> list[rule_index.RuleName]:
    return [rule_index.RuleName(r.code, r.name, r.kind, r.summary) for r in rules.all_rules()]


def test_every_rule_module_is_read_from_its_source():
    by_code = {r.code: r for r in _registry()}
    for module in rules.MODULES:
        got = rule_index.from_source(module)
        assert got is not None, module
        assert got == by_code[got.code], module


def test_index_is_the_registry():
    assert list(rule_index.index()) == _registry()


@pytest.mark.parametrize(
    "text, expected",
    [
        ('"""One line.\n\nMore."""\nX = 1\n', "One line."),
        ("# a comment\n\n'''\n  First.\n'''\n", "First."),
        ('r"""Raw."""\n', None),  # a prefix: the module is imported instead
        ('"""A \\n b."""\n', None),  # an escape: the docstring's value is not its source
        ('X = 1\n"""Not a docstring."""\n', None),
        ('"""   """\n', None),
    ],
)
def test_summary(text, expected):
    assert rule_index._summary(text) == expected


def test_rules_command_lists_the_index(capsys):
    from analyzer.cli import main

    assert main(["rules"]) == 0
    listed = capsys.readouterr().out.splitlines()
    rs = _registry()
    wn, wk = max(len(r.name) for r in rs), max(len(r.kind) for r in rs)
    assert listed == [f"{r.code}  {r.name:<{wn}}  {r.kind:<{wk}}  {r.summary}" for r in rs]
    # the summaries start in one column
    assert len({line.index(r.summary) for line, r in zip(listed, rs, strict=True)}) == 1


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
