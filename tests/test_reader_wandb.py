"""Weights & Biases run folders: fixtures/wandb/ was written by the real wandb client in offline
mode (fixtures/make_wandb_runs.py: the current client and 0.10.33); the values are checked
against the training run that logged them. Decoding run-*.wandb needs the `wandb` extra (CI
installs it, see .ci/run); without it those tests skip and the run is skipped with a hint."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from analyzer.discover import discover
from analyzer.readers import reader_for
from analyzer.runs import load

from .helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
WANDB = ROOT / "fixtures" / "wandb"


def _train():
    return load_script("make_text_logs").train


def _run_dirs(where: str) -> list[Path]:
    return sorted(
        d for d in (WANDB / where / "wandb").iterdir() if d.is_dir() and not d.is_symlink()
    )


def _overfit_dir(where: str) -> Path:
    (d,) = [d for d in _run_dirs(where) if "resumed01" not in d.name]
    return d


def series(frame, tag):
    f = frame[frame["tag"] == tag]
    return f["step"].tolist(), f["value"].tolist()


needs_wandb = pytest.mark.skipif(
    importlib.util.find_spec("wandb") is None, reason="the wandb extra is not installed"
)


# --- discovery (no wandb needed) ---------------------------------------------------------------


def test_discovery_one_run_per_wandb_run_and_nothing_else_read():
    disc = discover(WANDB)
    runs = {r.run: r for r in disc.runs}
    assert {r.format for r in disc.runs} == {"wandb"}
    assert len(runs) == 3  # the latest-run alias is not a second copy; the resumed run is one
    resumed = [r for r in disc.runs if "resumed01" in r.run]
    (r,) = resumed
    assert [p.parent.name for p in r.files] == [
        d.name for d in _run_dirs("current") if "resumed01" in d.name
    ]
    assert any("resumed W&B run" in n for n in r.notes)
    skipped = {s.path: s.reason for s in disc.skipped}
    assert all("W&B client's own log" in v for v in skipped.values())
    # files/output.log and logs/*.log belong to the run: not read as text logs, not listed
    assert not any("output.log" in p or "/logs/" in p for p in skipped)


# --- reading the record log --------------------------------------------------------------------


@needs_wandb
@pytest.mark.parametrize("where", ["current", "old_client"])
def test_history_values_name_and_config(where):
    train = _train()
    hist, _ = train(seed=4, epochs=30, lr=0.3, n_train=96, dim=60, noise=0.5, hidden=64)
    d = _overfit_dir(where)
    res = reader_for("wandb").read("run", sorted(d.rglob("*.wandb")), d)
    steps, loss = series(res.frame, "train/loss")
    assert steps == list(range(30))
    # the 0.10 client wrote 16 significant digits
    assert loss == pytest.approx([h["loss"] for h in hist], rel=1e-14)
    assert series(res.frame, "val/acc")[1] == pytest.approx([h["val_accuracy"] for h in hist])
    assert set(res.frame["tag"]) == {"train/loss", "train/acc", "val/loss", "val/acc", "lr"}
    assert res.hparams["wandb.name"] == "mlp-overfit"
    assert res.hparams["lr"] == 0.3 and res.hparams["optimizer.name"] == "sgd"
    # the weights histogram is not a curve, and says so
    assert any("'weights'" in n and "not read" in n for n in res.notes)
    assert not res.frame["wall_time"].isna().any()


@needs_wandb
def test_resumed_run_keeps_the_second_sessions_values():
    train = _train()
    first, _ = train(seed=11, epochs=8, lr=0.05)
    again, _ = train(seed=12, epochs=15, lr=0.05)
    result = load(WANDB / "current")
    (run,) = [r for r in result.runs if "resumed01" in r.id]
    steps, loss = series(run.frame, "train/loss")
    assert steps == list(range(15))
    assert loss == [h["loss"] for h in first[:5]] + [h["loss"] for h in again[5:]]
    notes = [n for n in run.notes if n.startswith("train/loss:")]
    assert "1 restart(s)" in notes[0] and "3 point(s)" in notes[0]
    assert (run.roles.train_loss, run.roles.val_loss) == ("train/loss", "val/loss")


@needs_wandb
def test_input_format_reads_a_record_log_copied_under_another_name(tmp_path):
    """``--input-format wandb`` on one file: a run-<id>.wandb copied as ``history.bin`` is read
    as the record log."""
    (log,) = sorted(_overfit_dir("current").rglob("*.wandb"))
    copy = tmp_path / "history.bin"
    shutil.copyfile(log, copy)
    (run,) = load([copy], input_format="wandb").runs
    (orig,) = load([_overfit_dir("current")]).runs
    assert run.format == "wandb"
    assert series(run.frame, "train/loss") == series(orig.frame, "train/loss")
    assert (run.roles.train_loss, run.roles.val_loss) == ("train/loss", "val/loss")


@needs_wandb
def test_check_flags_the_overfitting_run(capsys):
    import json

    from analyzer.cli import main

    main(["check", str(_overfit_dir("current")), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    (run,) = doc["runs"]
    assert run["format"] == "wandb"
    assert "OVF001" in {f["code"] for f in run["findings"]}


@needs_wandb
def test_damaged_logs_are_read_around_the_damage(tmp_path):
    src = _overfit_dir("current")
    log = next(src.glob("*.wandb"))
    data = bytearray(log.read_bytes())
    run = tmp_path / "wandb" / src.name
    run.mkdir(parents=True)
    # a flipped byte in the middle: that chunk (and the rest of its block) is skipped
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    (run / log.name).write_bytes(bytes(bad))
    res = reader_for("wandb").read("r", [run / log.name], run)
    assert any("bad checksum" in n for n in res.notes)
    assert 0 < (res.frame["tag"] == "train/loss").sum() < 30
    # cut in the middle of a record: what came before is read
    (run / log.name).write_bytes(bytes(data[: len(data) * 2 // 3]))
    res = reader_for("wandb").read("r", [run / log.name], run)
    assert any("cut" in n for n in res.notes)
    assert (res.frame["tag"] == "train/loss").sum() > 5
    # not a W&B log at all
    (run / log.name).write_bytes(b"hello world" * 10)
    result = load(tmp_path)
    assert not result.runs
    assert any("no ':W&B' header" in s.reason for s in result.skipped)


def test_without_the_wandb_package_the_run_is_skipped_with_the_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb.proto", None)
    monkeypatch.setitem(sys.modules, "wandb", None)
    result = load(_overfit_dir("current"))
    assert not result.runs
    (s,) = result.skipped
    assert s.path.endswith(".wandb")
    assert "pip install 'curvelint[wandb]'" in s.reason


# --- older clients' wandb-history.jsonl (no wandb needed) --------------------------------------


def test_history_jsonl_of_older_clients(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # must not be needed
    run = tmp_path / "wandb" / "run-20200301_101010-3kx9f2ab"
    run.mkdir(parents=True)
    rows = [
        '{"loss": 0.9, "val_loss": 1.0, "_step": 0, "_runtime": 3, "_timestamp": 1583057410.5}',
        '{"loss": 0.7, "_step": 1, "_runtime": 6, "_timestamp": 1583057413.5, '
        '"examples": {"_type": "images", "width": 28, "height": 28, "count": 4}}',
        "not json",
        '{"loss": NaN, "val_loss": 0.95, "_step": 2, "_runtime": 9, "_timestamp": 1583057416.5}',
    ]
    (run / "wandb-history.jsonl").write_text("\n".join(rows) + "\n")
    (run / "config.yaml").write_text(
        "wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.9.7\n"
        "lr:\n  desc: null\n  value: 0.01\nepochs:\n  desc: null\n  value: 3\n"
    )
    (run / "wandb-metadata.json").write_text('{"program": "train.py", "host": "gpu7"}')
    result = load(tmp_path)
    (r,) = result.runs
    assert r.format == "wandb"
    assert set(r.frame["tag"]) == {"loss", "val_loss"}  # the images' width is no curve
    steps, loss = series(r.frame, "loss")
    assert steps == [0, 1, 2] and loss[:2] == [0.9, 0.7]
    assert r.hparams["lr"] == 0.01 and r.hparams["epochs"] == 3
    assert r.hparams["wandb.program"] == "train.py"
    assert any("1 line(s) that are not JSON" in n for n in r.notes)
    assert any("'examples'" in n for n in r.notes)


def test_files_subfolder_history_and_a_copy_with_no_data(tmp_path):
    run = tmp_path / "wandb" / "run-20200301_101010-aaaa1111" / "files"
    run.mkdir(parents=True)
    (run / "wandb-history.jsonl").write_text(
        "".join(f'{{"train_loss": {1 / (i + 1)}, "_step": {i}}}\n' for i in range(4))
    )
    result = load(tmp_path)
    (r,) = result.runs
    assert r.id == "wandb/run-20200301_101010-aaaa1111"
    assert series(r.frame, "train_loss")[0] == [0, 1, 2, 3]
    shutil.rmtree(tmp_path / "wandb")
    empty = tmp_path / "wandb" / "run-20200301_101010-bbbb2222"
    empty.mkdir(parents=True)
    (empty / "wandb-history.jsonl").write_text("")
    result = load(tmp_path)
    assert not result.runs
    assert "no history rows" in result.skipped[0].reason
