"""The command line: exit codes, JSON contracts, config."""

import json

import numpy as np
import pytest

from analyzer.cli import main


def write_keras_csv(path, loss, val_loss):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["epoch,loss,val_loss"] + [
        f"{i},{a},{b}" for i, (a, b) in enumerate(zip(loss, val_loss, strict=False))
    ]
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture
def logdir(tmp_path):
    t = np.arange(30)
    write_keras_csv(
        tmp_path / "logs/good/training.log", 2 * np.exp(-t / 5) + 0.1, 2 * np.exp(-t / 5) + 0.15
    )
    val = 0.4 + 1.6 * np.exp(-t / 4) + 0.02 * np.maximum(t - 10, 0)
    write_keras_csv(tmp_path / "logs/overfit/training.log", 2 * np.exp(-t / 5) + 0.01, val)
    (tmp_path / "logs/notes.bin").write_bytes(b"\x00\x01")
    return tmp_path / "logs"


def test_curves_json_contract(logdir, capsys):
    assert main(["curves", str(logdir), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 1
    runs = {r["run"]: r for r in doc["runs"]}
    assert set(runs) == {"good/training.log", "overfit/training.log"}
    r = runs["good/training.log"]
    assert r["format"] == "keras-csv"
    assert r["roles"]["train_loss"] == "loss" and r["roles"]["val_loss"] == "val_loss"
    tag = {t["tag"]: t for t in r["tags"]}["val_loss"]
    assert {"tag", "role", "direction", "points", "first_step", "last_step"} <= set(tag)
    assert (tag["points"], tag["first_step"], tag["last_step"]) == (30, 0, 29)
    assert any(s["path"] == "notes.bin" for s in doc["skipped"])


def test_check_exit_codes_and_json(logdir, capsys):
    assert main(["check", str(logdir), "--format", "json", "--no-config"]) == 1
    doc = json.loads(capsys.readouterr().out)
    runs = {r["run"]: r for r in doc["runs"]}
    assert runs["good/training.log"]["verdict"] == "healthy"
    over = runs["overfit/training.log"]
    assert over["verdict"] == "problems"
    f = [x for x in over["findings"] if x["kind"] == "overfitting"][0]
    assert {
        "code",
        "kind",
        "severity",
        "curve",
        "start_step",
        "end_step",
        "confidence",
        "message",
        "evidence",
        "remedies",
    } <= set(f)
    assert f["code"] == "OVF001" and f["curve"] == "val_loss"
    assert 6 <= f["evidence"]["best_step"] <= 12
    # ignoring the rule makes the run pass
    assert main(["check", str(logdir), "--ignore", "OVF", "--no-config"]) == 0
    assert main(["check", str(logdir), "--fail-on", "error", "--no-config"]) == 0


def test_usage_errors_exit_2(logdir, tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert main(["check", str(logdir), "--select", "NOPE1", "--no-config"]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty), "--no-config"]) == 2
    assert main(["curves", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "unknown rule" in err


def test_config_file_select_and_options(logdir, tmp_path, capsys):
    cfg = tmp_path / "curvelint.toml"
    cfg.write_text('ignore = ["OVF001"]\n[rules.DIV002]\nmin_ratio = 3.0\n')
    assert main(["check", str(logdir), "--config", str(cfg)]) == 0
    cfg.write_text("[rules.DIV002]\nnonsense = 3.0\n")
    assert main(["check", str(logdir), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [err[0]] and err[0].startswith(f"curvelint: {cfg}: DIV002: unknown option ")
    cfg.write_text('fail-on = "sometimes"\n')
    assert main(["check", str(logdir), "--config", str(cfg)]) == 2
    cfg.write_text("[tool.curvelint\n")
    assert main(["check", str(logdir), "--config", str(cfg)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_role_override(logdir, capsys):
    assert (
        main(["curves", str(logdir / "good"), "--format", "json", "--train-loss", "val_loss"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"][0]["roles"]["train_loss"] == "val_loss"


def test_rules_and_rule_docs(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "OVF001" in out and "PLT001" in out
    assert main(["rule", "OVF001"]) == 0
    out = capsys.readouterr().out
    assert "Why it matters" in out and "min_rise" in out
    assert main(["rule", "XX999"]) == 2


def test_bad_options_one_line_naming_where_they_come_from(logdir, tmp_path, capsys):
    cfg = tmp_path / "curvelint.toml"
    cfg.write_text('select = ["NOPE1"]\n[rules.OVF001]\nmin_rise = 0.2\n')
    assert main(["check", str(logdir), "--config", str(cfg)]) == 2
    assert capsys.readouterr().err.startswith(f"curvelint: {cfg}: unknown rule code or prefix")
    # --select replaces the config's list; its mistakes are the command line's
    assert main(["check", str(logdir), "--config", str(cfg), "--select", "XX"]) == 2
    assert capsys.readouterr().err.startswith("curvelint: unknown rule code or prefix 'XX'")
    assert main(["check", str(logdir), "--config", str(cfg), "--select", "OVF"]) == 1
    capsys.readouterr()
    cfg.write_text("[rules.NOPE1]\nx = 1\n[rules.OVF001]\nmin_rise = true\n")
    assert main(["check", str(logdir), "--config", str(cfg)]) == 2
    assert "unknown rule 'NOPE1'" in capsys.readouterr().err
    cfg.write_text("[rules.OVF001]\nmin_rise = true\n")
    assert main(["check", str(logdir), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err == f"curvelint: {cfg}: OVF001: option 'min_rise' must be a number, not True (bool)\n"


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_output_paths_that_cannot_be_written_exit_2_with_one_line(logdir, tmp_path, capsys, fmt):
    for bad, why in (
        (tmp_path, "is a folder"),
        (tmp_path / "missing" / "r.out", "does not exist"),
        (logdir / "good" / "training.log", "refusing to overwrite"),
    ):
        before = (logdir / "good" / "training.log").read_bytes()
        assert main(["check", str(logdir), "--format", fmt, "-o", str(bad), "--exit-zero"]) == 2
        err = capsys.readouterr().err
        assert why in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert (logdir / "good" / "training.log").read_bytes() == before


def test_output_inside_the_log_folder_is_written_with_a_warning(logdir, capsys):
    out = logdir / "report.json"
    assert main(["check", str(logdir), "--format", "json", "-o", str(out), "--exit-zero"]) == 0
    assert "inside the log folder" in capsys.readouterr().err and out.exists()


def test_control_characters_in_names_are_escaped_in_text_output(tmp_path, capsys):
    t = np.arange(10)
    evil = "run\x1b]0;pwned\x07\nFAKE: DIV001 [error]"
    write_keras_csv(tmp_path / evil / "training.log", np.exp(-t / 3), np.exp(-t / 3) + 0.1)
    for cmd in (["check", str(tmp_path), "--exit-zero"], ["curves", str(tmp_path)]):
        assert main(cmd) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out
        assert not any(line.startswith("FAKE") for line in out.splitlines())
        assert "\\x1b]0;pwned\\x07\\nFAKE" in out


def test_role_override_naming_no_tag_is_an_error(logdir, capsys, tmp_path):
    """--train-loss/--val-loss naming a tag that no run has: exit 2, naming the tags there are
    (once given in the config too); a tag that some runs have is applied where it exists."""
    for extra in ([], ["--format", "json"], ["--format", "html", "-o", str(tmp_path / "r.html")]):
        rc = main(
            ["check", str(logdir), "--no-cache", "--no-config", "--train-loss", "nope", *extra]
        )
        err = capsys.readouterr().err
        assert rc == 2, extra
        assert "--train-loss 'nope'" in err and "'loss', 'val_loss'" in err and "epoch" not in err
    assert not (tmp_path / "r.html").exists()
    assert main(["curves", str(logdir), "--val-loss", "val_los"]) == 2
    assert "--val-loss 'val_los'" in capsys.readouterr().err
    cfg = tmp_path / "curvelint.toml"
    cfg.write_text('train-loss = "nope"\n')
    assert main(["check", str(logdir), "--no-cache", "--config", str(cfg)]) == 2
    assert "no run has such a tag" in capsys.readouterr().err
    # a tag only one run has: no error, the other run's note says it was not found
    write_keras_csv(logdir / "third/training.log", [1.0] * 5, [1.0] * 5)
    (logdir / "third/training.log").write_text(
        (logdir / "third/training.log")
        .read_text()
        .replace("epoch,loss,val_loss", "epoch,l2,val_loss")
    )
    rc = main(
        [
            "check",
            str(logdir),
            "--no-cache",
            "--no-config",
            "--format",
            "json",
            "--train-loss",
            "l2",
        ]
    )
    assert rc in (0, 1)
    runs = {r["run"]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert runs["third/training.log"]["roles"]["train_loss"] == "l2"
    assert any("'l2' is not a tag" in n for n in runs["good/training.log"]["notes"])


def test_an_empty_select_is_a_usage_error(logdir, capsys):
    for value in ("", ","):
        assert main(["check", str(logdir), "--select", value]) == 2
        assert "names no rule" in capsys.readouterr().err


def test_summary_line_of_an_empty_check_has_no_dangling_colon(tmp_path, capsys):
    (tmp_path / "notes.docx").write_bytes(b"x")
    assert main(["check", str(tmp_path), "--no-cache"]) == 2
    out = capsys.readouterr().out
    assert "0 run(s); 1 path(s) skipped" in out and "0 run(s):" not in out
