"""Sweep insight (analyzer.sweep): hyper-parameters from folder names, claims on the real sweep of
``fixtures/sweep`` (made by ``fixtures/make_sweep.py``) against its intended regions, no claims
when the verdicts are shuffled across runs, seed-sensitive groups and the best run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from analyzer import sweep
from analyzer.cli import main
from analyzer.engine import check
from analyzer.readers.hparams import name_hparams, unwrap_wandb
from analyzer.report.text import render_text
from analyzer.sweep import RunFacts, analyse, fisher_p

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "fixtures" / "sweep"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lr=0.1_bs=32", {"lr": 0.1, "bs": 32}),
        ("lr0.1-bs32", {"lr": 0.1, "bs": 32}),
        ("lr1e-4-bs32", {"lr": 1e-4, "bs": 32}),
        (
            "lr=1e-4_batch_size=8_depth=2_seed=0",
            {"lr": 1e-4, "batch_size": 8, "depth": 2, "seed": 0},
        ),
        ("opt=adam,lr=0.01", {"opt": "adam", "lr": 0.01}),  # Hydra multirun
        (  # Ray Tune: an id and a date around the settings
            "train_fn_a1b2c_00003_3_batch_size=32,lr=0.0010_2024-01-05_12-34-56",
            {"batch_size": 32, "lr": 0.001},
        ),
        ("sweep/lr=0.1_bs=32/version_0", {"lr": 0.1, "bs": 32}),
        ("exp1_lr0.01_wd0.0005", {"lr": 0.01, "wd": 0.0005}),
        ("cnn-digits-adam-lr0.03-s62", {"lr": 0.03}),  # s62: a seed or a name, not said
        ("tiny-batch-iris-bs1-adam", {"bs": 1}),
        # names, not settings
        ("resnet50", {}),
        ("mnist_cnn2_run3", {}),
        ("version_0", {}),
        ("Nov30_00-56-34_gen5", {}),
        ("mti881-projet2", {}),
        ("r002_cnn_shapes16", {}),
        ("checkpoint-500", {}),
        ("2024-01-05_12-34-56", {}),
        ("a=b=c", {}),
        ("", {}),
    ],
)
def test_name_hparams(name, expected):
    assert name_hparams(name) == expected


def test_name_hparams_hostile_names_do_not_raise():
    for name in ["=" * 5000, "lr=" + "9" * 5000, "x\n=1\x1b[2J", "lr=nan_bs=inf", "é=1_ü=2"]:
        assert isinstance(name_hparams(name), dict)


def test_wandb_config_is_unwrapped():
    cfg = {
        "wandb_version": 1,
        "_wandb": {"desc": None, "value": {"t": 1}},
        "lr": {"desc": None, "value": 0.1},
    }
    assert unwrap_wandb(cfg) == {"lr": 0.1}
    assert unwrap_wandb({"lr": 0.1, "model": {"depth": 2}}) == {"lr": 0.1, "model": {"depth": 2}}


def test_fisher_p_matches_scipy():
    from scipy.stats import fisher_exact

    rng = random.Random(0)
    for _ in range(100):
        n_in, n_out = rng.randint(1, 300), rng.randint(1, 300)
        k_in, k_out = rng.randint(0, n_in), rng.randint(0, n_out)
        ref = fisher_exact([[k_in, n_in - k_in], [k_out, n_out - k_out]])[1]
        assert fisher_p(k_in, n_in, k_out, n_out) == pytest.approx(ref, rel=1e-9, abs=1e-300)


# --- the real sweep -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report():
    return check(SWEEP)


def _facts(report) -> list[RunFacts]:
    return [sweep.facts(r) for r in report.runs]


def test_every_run_has_its_hparams_from_files_and_name(report):
    assert len(report.runs) == 32
    for r in report.runs:
        hp = r.hparams
        # the HParams plugin (add_hparams) and the folder name agree
        assert set(hp) >= {"lr", "batch_size", "depth", "width", "seed", "bs"}
        assert name_hparams(r.run) == {
            "lr": pytest.approx(hp["lr"]),
            "bs": hp["batch_size"],
            "depth": hp["depth"],
            "seed": hp["seed"],
        }
    doc = json.loads(report.to_json())
    assert all("hparams" in r for r in doc["runs"])
    assert "sweep" in doc


def test_claims_match_the_intended_regions(report):
    """README of fixtures/sweep: lr = 3 (and 0.3 with batch 8) set up to diverge, lr = 1e-4 to
    barely move. Every claim must be about one of these regions, and both must be found."""
    s = report.sweep
    assert s is not None
    assert {h["name"] for h in s["hparams"]} == {"lr", "batch_size", "depth"}  # seed, width out
    found = {(c["kind"], c["hparam"]): c for c in s["claims"]}
    assert set(found) == {("divergence", "lr"), ("plateau", "lr")}, [
        c["sentence"] for c in s["claims"]
    ]
    div = found[("divergence", "lr")]
    assert div["op"] == ">=" and div["value"] >= 0.3
    assert div["rate_in"] >= 0.5 and div["rate_out"] <= 0.2
    low = found[("plateau", "lr")]
    assert low["op"] == "<=" and low["value"] <= 1e-4
    assert low["rate_in"] >= 0.5
    for c in s["claims"]:
        assert c["p_adjusted"] <= sweep.ALPHA
        assert c["risk_difference"] >= sweep.MIN_DIFFERENCE
        # the counts in the sentence are the counts of the verdicts
        runs = [r for r in report.runs if r.verdict != "insufficient-data"]
        side = [
            r
            for r in runs
            if (
                r.hparams[c["hparam"]] >= c["value"]
                if c["op"] == ">="
                else r.hparams[c["hparam"]] <= c["value"]
            )
        ]
        with_kind = sum(any(f.kind == c["kind"] for f in r.findings) for r in side)
        assert (c["runs_in"], c["with_kind_in"]) == (len(side), with_kind)
        assert f"{with_kind}/{len(side)}" in c["sentence"]


def test_best_run_is_the_lowest_final_val_loss_among_healthy_runs(report):
    best = report.sweep["best_run"]
    healthy = [r for r in report.runs if r.verdict == "healthy" and "val_final" in r.summary]
    assert healthy
    want = min(healthy, key=lambda r: r.summary["val_final"])
    assert best["run"] == want.run


def test_seed_sensitive_groups_differ_only_in_seed(report):
    by_run = {r.run: r for r in report.runs}
    for g in report.sweep["seed_sensitive"]:
        members = g["runs_with"] + g["runs_without"]
        assert g["runs_with"] and g["runs_without"]
        settings = {k: v for k, v in by_run[members[0]].hparams.items() if k not in ("seed", "bs")}
        for m in members:
            hp = by_run[m].hparams
            assert {k: v for k, v in hp.items() if k not in ("seed", "bs")} == settings
            has = any(f.kind == g["kind"] for f in by_run[m].findings)
            assert has == (m in g["runs_with"])


@pytest.mark.parametrize("seed", range(8))
def test_no_claim_when_the_verdicts_are_shuffled(report, seed):
    """The findings of the real sweep dealt out at random over its settings: no claim survives."""
    facts = _facts(report)
    labels = [(f.verdict, f.kinds) for f in facts]
    random.Random(seed).shuffle(labels)
    shuffled = [
        RunFacts(f.run, v, k, f.hparams, f.val_final)
        for f, (v, k) in zip(facts, labels, strict=True)
    ]
    s = analyse(shuffled)
    assert s is not None and s.tests > 0
    assert s.claims == [], [c["sentence"] for c in s.claims]


def test_false_claim_rate_under_shuffling_is_within_alpha(report):
    """Holm's correction bounds the chance of any claim on a sweep without association at ALPHA
    (measured: 9 of 1,000 shufflings gave one)."""
    facts = _facts(report)
    labels = [(f.verdict, f.kinds) for f in facts]
    rng = random.Random(12345)
    with_claims = 0
    trials = 200
    for _ in range(trials):
        rng.shuffle(labels)
        runs = [RunFacts(f.run, v, k, f.hparams) for f, (v, k) in zip(facts, labels, strict=True)]
        with_claims += bool(analyse(runs).claims)
    assert with_claims / trials <= sweep.ALPHA


def _grid(kind_of, seeds=(0, 1)):
    runs = []
    for lr in (1e-4, 1e-3, 1e-2, 1e-1):
        for opt in ("adam", "sgd"):
            for depth in (2, 4, 8):
                for seed in seeds:
                    name = f"lr={lr:g}_opt={opt}_depth={depth}_seed={seed}"
                    kinds = kind_of(lr, opt, depth, seed)
                    hp = {"lr": lr, "opt": opt, "depth": depth, "seed": seed}
                    runs.append(
                        RunFacts(name, "problems" if kinds else "healthy", frozenset(kinds), hp, lr)
                    )
    return runs


def test_a_categorical_setting_and_seed_sensitivity():
    def kinds(lr, opt, depth, seed):
        out = set()
        if opt == "sgd":
            out.add("oscillation")
        if lr == 1e-3 and depth == 8 and seed == 1:
            out.add("overfitting")
        return out

    s = analyse(_grid(kinds))
    assert s is not None
    assert [(c["kind"], c["hparam"], c["op"], c["value"]) for c in s.claims] == [
        ("oscillation", "opt", "==", "sgd")
    ]
    assert (
        "oscillation in 24/24 runs with opt = sgd vs 0/24 with other values of opt"
        in (s.claims[0]["sentence"])
    )
    assert [(g["kind"], g["settings"]) for g in s.seed_sensitive] == [
        ("overfitting", {"depth": 8.0, "lr": 0.001, "opt": "adam"}),
        ("overfitting", {"depth": 8.0, "lr": 0.001, "opt": "sgd"}),
    ]
    assert s.best_run is not None and s.best_run["run"].startswith("lr=0.0001_opt=adam")


def test_random_failures_give_no_claims():
    rng = random.Random(3)
    for _ in range(10):
        s = analyse(_grid(lambda *a: {k for k in ("plateau", "divergence") if rng.random() < 0.3}))
        assert s is not None and s.claims == []


def test_not_a_sweep():
    assert analyse(_grid(lambda *a: set())[:5]) is None  # too few runs
    same = [RunFacts(f"r{i}", "healthy", frozenset(), {"lr": 0.1, "seed": i}) for i in range(20)]
    assert analyse(same) is None  # nothing but the seed varies
    assert analyse([RunFacts(f"r{i}", "healthy", frozenset(), {}) for i in range(20)]) is None


def test_cli_json_and_text_carry_the_sweep(report, capsys):
    # the streamed JSON of the command line (written run by run) ends with the sweep
    main(["check", str(SWEEP), "--no-cache", "-j", "1", "-q", "--no-config", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["sweep"] == json.loads(report.to_json())["sweep"]
    text = render_text(report)
    assert "sweep: 32 runs over batch_size (= bs), depth, lr" in text
    assert text.rstrip().splitlines()[-1].startswith("32 run(s):")  # the summary stays last
    one = check(SWEEP / "lr=3_bs=8_depth=1_seed=0")
    assert one.sweep is None and "sweep" not in json.loads(one.to_json())


def test_side_files_hf_config_and_wandb_config(tmp_path):
    from analyzer.runs import load

    hf = tmp_path / "hf-lr=0.1_bs=4"  # one key=value part is enough
    hf.mkdir()
    history = [{"loss": 1.0 / (i + 1), "epoch": i, "step": 10 * i} for i in range(6)]
    (hf / "trainer_state.json").write_text(
        json.dumps({"log_history": history, "global_step": 50, "train_batch_size": 8})
    )
    (hf / "config.json").write_text(json.dumps({"num_hidden_layers": 4, "hidden_size": 64}))
    wb = tmp_path / "wb"
    wb.mkdir()
    (wb / "log.csv").write_text(
        "step,train_loss,val_loss\n"
        + "".join(f"{i},{1 / (i + 1)},{1.1 / (i + 1)}\n" for i in range(6))
    )
    (wb / "config.yaml").write_text(
        "wandb_version: 1\n_wandb:\n  desc: null\n  value:\n    t: 1\n"
        "lr:\n  desc: null\n  value: 0.001\ndepth:\n  desc: null\n  value: 3\n"
    )
    runs = {r.id: r for r in load(tmp_path).runs}
    h = runs["hf-lr=0.1_bs=4"]
    assert h.hparams["num_hidden_layers"] == 4 and h.hparams["train_batch_size"] == 8
    # the files win over the folder name; the name adds what they lack
    assert h.hparams["lr"] == 0.1 and h.hparams["bs"] == 4
    assert any("from the folder name: lr, bs" in n for n in h.notes)
    assert runs["wb/log.csv"].hparams == {"lr": 0.001, "depth": 3}


# --- the HTML report's sweep section ------------------------------------------------------------


def _hostile_sweep_report():
    """A sweep whose setting values and run names are markup: the section must show them as text."""
    from analyzer.findings import Finding, Report, RunReport

    evil = '<img src=x onerror="document.title=1">'
    runs = []
    for i in range(16):
        opt = evil if i % 2 else "<b>sgd</b>"
        f = Finding("OSC001", "loss-oscillation", "oscillation", "warning", "loss", 0, 9, 0.9, "m")
        bad = i % 2 == 1
        runs.append(
            RunReport(
                run=f"run{i}<script>alert(1)</script>",
                format="csv",
                roles={},
                verdict="problems" if bad else "healthy",
                findings=[f] if bad else [],
                summary={"val_final": 1.0 + i},
                hparams={"opt": opt, "seed": i % 2, "lr": 0.1 * (1 + i // 2)},
            )
        )
    rep = Report(runs=runs)
    rep.sweep = sweep.sweep_of(runs)
    return rep, evil


def test_html_sweep_section_escapes_and_shows_claims():
    from analyzer.report.html import render_html

    rep, evil = _hostile_sweep_report()
    assert [c["hparam"] for c in rep.sweep["claims"]] == ["opt"]
    html = render_html(rep)
    section = html[
        html.index('<section id="sweep"') : html.index(
            "</section>", html.index('<section id="sweep"')
        )
    ]
    assert evil not in section and "<script>alert" not in section and "<b>sgd" not in section
    assert "&lt;img src=x" in section and "run1&lt;script&gt;" in section
    assert section.count('class="sw-claim"') == 1
    assert section.count("<circle") == 16
    # the section comes before the runs table
    assert html.index('id="sweep"') < html.index('id="overview"')


def test_html_without_a_sweep_has_no_section():
    from analyzer.findings import Report
    from analyzer.report.html import render_html

    assert 'id="sweep"' not in render_html(Report(runs=[]))


def test_a_failing_sweep_analysis_is_said_and_the_report_goes_on(monkeypatch):
    def broken(runs, **kw):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(sweep, "analyse", broken)
    with pytest.warns(RuntimeWarning, match="sweep analysis failed.*boom"):
        assert sweep.safe_dict([]) is None


def test_runs_of_unrelated_projects_sharing_few_setting_names_are_no_sweep():
    # eleven runs of different projects: each setting is held by a few of them only
    runs = []
    for i in range(11):
        hp = {f"project{i}_depth": i, "batch_size": 16 * (1 + i % 3)} if i < 5 else {"lr": i}
        runs.append(sweep.RunFacts(f"r{i}", "healthy", frozenset(), hp, 0.1 * (i + 1)))
    assert sweep.analyse(runs) is None  # batch_size: 5 runs, lr: 6 runs, both under MIN_RUNS
    # the same settings on enough runs are a sweep
    more = [sweep.RunFacts(f"s{i}", "healthy", frozenset(), {"lr": i % 4}, 0.1) for i in range(9)]
    assert sweep.analyse(more) is not None
