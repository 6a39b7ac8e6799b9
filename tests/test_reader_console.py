"""Text training logs (console output): the line shapes of fixtures/console/ (written by
fixtures/make_text_logs.py from a real numpy training run, in each framework's console shape),
their values against the run that printed them, discovery by content, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analyzer.cli import main
from analyzer.discover import discover
from analyzer.readers import ReadError, reader_for, sniff_table
from analyzer.readers.base import apply_restarts, make_frame
from analyzer.readers.console import parse_counter_line, tag_name
from analyzer.runs import load

from .helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = ROOT / "fixtures" / "console"


def _generator():
    return load_script("make_text_logs")


GEN = _generator()


def read(path: Path):
    return reader_for("text").read("run", [path], path.parent)


def series(res, tag: str) -> tuple[list[int], list[float]]:
    f = res.frame[res.frame["tag"] == tag]
    return f["step"].tolist(), f["value"].tolist()


@pytest.fixture(scope="module")
def loaded():
    res = load(CONSOLE)
    return {r.id: r for r in res.runs}, {s.path: s.reason for s in res.skipped}


# --- every fixture: format, roles, shape note -----------------------------------------------


@pytest.mark.parametrize(
    "name, train, val, steps",
    [
        ("keras2_terminal.log", "loss", "val_loss", (1, 12)),
        ("keras3_nohup.out", "loss", "val_loss", (1, 9)),
        ("pytorch_logging.log", "train_loss", "val_loss", (1, 15)),
        ("epoch_bracket.txt", "train_loss", "val_loss", (1, 30)),
        ("pipe_loss.txt", "loss", None, (1, 40)),
        ("step_loss.log", "loss", "val_loss", (0, 1020)),
        ("hf_trainer_slurm.out", "loss", "eval_loss", (1, 6)),
        ("imagenet_stdout", "loss", None, (0, 240)),
        ("resumed.log", "train_loss", "val_loss", (1, 20)),
    ],
)
def test_fixture_is_read_as_text_with_roles(loaded, name, train, val, steps):
    runs, _ = loaded
    run = runs[name]
    assert run.format == "text"
    assert run.roles.train_loss == train
    assert run.roles.val_loss == val
    assert (int(run.frame["step"].min()), int(run.frame["step"].max())) == steps
    assert any("line shape:" in n for n in run.notes)


def test_prose_is_skipped_with_a_reason(loaded):
    runs, skipped = loaded
    assert "notes.txt" not in runs
    assert "prose" in skipped["notes.txt"]


# --- values are those of the last progress line, not a redraw --------------------------------


def test_keras2_redraws_read_the_epochs_final_line():
    hist, _ = GEN.train(seed=1, epochs=12)
    res = read(CONSOLE / "keras2_terminal.log")
    steps, loss = series(res, "loss")
    assert steps == list(range(1, 13))
    # Keras prints the running mean over the epoch's batches; the final one is the epoch's
    assert loss == pytest.approx([round(h["running"][-1][0], 4) for h in hist], abs=1e-9)
    _, val = series(res, "val_accuracy")
    assert val == pytest.approx([round(h["val_accuracy"], 4) for h in hist], abs=1e-9)
    # the ModelCheckpoint message and TensorFlow's start-up line are no curves
    assert set(res.frame["tag"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_keras3_colour_codes_and_an_unfinished_last_epoch():
    hist, _ = GEN.train(seed=2, epochs=9, lr=0.2, n_train=128, dim=40, noise=0.3)
    res = read(CONSOLE / "keras3_nohup.out")
    steps, val = series(res, "val_loss")
    assert steps == list(range(1, 10))
    assert val == pytest.approx([round(h["val_loss"], 4) for h in hist], abs=1e-9)
    assert any("epoch 10 stopped after 3/8 batches" in n for n in res.notes)


def test_logging_lines_camel_case_and_spaced_names():
    hist, _ = GEN.train(seed=3, epochs=15, lr=0.02)
    res = read(CONSOLE / "pytorch_logging.log")
    assert series(res, "train_loss")[1] == pytest.approx(
        [round(h["loss"], 4) for h in hist], abs=1e-9
    )
    res = read(CONSOLE / "epoch_bracket.txt")
    assert set(res.frame["tag"]) == {"train_loss", "train_acc", "val_loss"}


def test_hf_printed_dicts_steps_and_summary():
    res = read(CONSOLE / "hf_trainer_slurm.out")
    steps, _ = series(res, "loss")
    assert steps == [1, 2, 3, 4, 5, 6]
    # an evaluation dict takes the step of the training dict printed before it
    assert series(res, "eval_loss")[0] == [2, 4, 6]
    assert "train_runtime" not in set(res.frame["tag"])
    assert "train_loss" not in set(res.frame["tag"])  # the summary's aggregate
    assert any("summary" in n for n in res.notes)


def test_batch_counter_restarting_every_epoch_becomes_a_global_step():
    res = read(CONSOLE / "imagenet_stdout")
    steps, _ = series(res, "loss")
    assert steps == [e * 50 + b for e in range(5) for b in range(0, 50, 10)]
    assert not any("restart(s) detected" in n for n in res.notes)


def test_step_lines_with_an_evaluation_line_of_another_shape():
    res = read(CONSOLE / "step_loss.log")
    assert series(res, "val_loss")[0] == [500, 1000]
    assert series(res, "lr")[1][0] == pytest.approx(1e-6)


# --- restarts ----------------------------------------------------------------------------------


def test_resumed_log_keeps_the_resumed_session_and_counts_one_restart():
    res = read(CONSOLE / "resumed.log")
    steps, loss = series(res, "train_loss")
    assert steps == list(range(1, 21))
    again, _ = GEN.train(seed=9, epochs=20, lr=0.03)
    # epochs 9-12 are the resumed session's (scaled in the generator), not the first session's
    assert loss[8:12] == pytest.approx([round(h["loss"] * 0.98, 4) for h in again[8:12]], abs=1e-9)
    notes = [n for n in res.notes if n.startswith("train_loss:")]
    assert notes and "1 restart(s)" in notes[0] and "4 point(s)" in notes[0]


def test_restart_note_counts_sessions_not_repeated_steps():
    # two fit sessions of 20 steps each: one restart, 20 replaced points
    frame = make_frame("r", "loss", list(range(20)) + list(range(20)), np.arange(40.0))
    out, notes = apply_restarts(frame)
    assert out["value"].tolist() == list(np.arange(20.0, 40.0))
    assert len(notes) == 1 and "1 restart(s)" in notes[0] and "20 point(s)" in notes[0]
    frame = make_frame("r", "loss", [0, 1, 2, 3, 1, 2, 3, 2, 3, 4], np.arange(10.0))
    _, notes = apply_restarts(frame)
    assert "2 restart(s)" in notes[0] and "back to 1, 2)" in notes[0]


# --- line parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, kind, counter, values",
    [
        (
            "2023-05-15 20:39:04,241 INFO:Epoch 1: Train Loss=0.0218, Val Loss=0.0230",
            "epoch",
            1,
            {"train_loss": 0.0218, "val_loss": 0.023},
        ),
        (
            "Epoch [3/30] TrainLoss=0.41 TrainAcc=0.8 ValLoss=0.5",
            "epoch",
            3,
            {"train_loss": 0.41, "train_acc": 0.8, "val_loss": 0.5},
        ),
        ("Epoch 1/200 | Loss: 0.6924", "epoch", 1, {"loss": 0.6924}),
        ("step 100: loss 2.31, lr 3e-4", "step", 100, {"loss": 2.31, "lr": 3e-4}),
        ("Iteration 500, loss = 0.3, time 12.3s, 4.1it/s", "step", 500, {"loss": 0.3}),
        (
            "train.py:88 global_step=7 loss: tensor(0.5321, device='cuda:0') acc 81.2%",
            "step",
            7,
            {"loss": 0.5321, "acc": 81.2},
        ),
    ],
)
def test_counter_lines(line, kind, counter, values):
    parsed = parse_counter_line(0, line)
    assert parsed is not None
    assert parsed.kind == kind
    assert (parsed.step if kind == "step" else parsed.epoch) == counter
    assert parsed.values == pytest.approx(values)


@pytest.mark.parametrize(
    "line",
    [
        "Epoch 5: val_loss improved from 0.52 to 0.48, saving model to best.h5",
        "Epoch 00005: ReduceLROnPlateau reducing learning rate to 1e-05.",
        "loss 0.5 but no counter here",
        "'epoch': 0.3 is a fraction, not a counter",
    ],
)
def test_message_lines_are_not_data(line):
    parsed = parse_counter_line(0, line)
    assert parsed is None or not any("loss" in t for t in parsed.values)


def test_tag_names():
    assert tag_name("Train Loss") == "train_loss"
    assert tag_name("TrainLoss") == "train_loss"
    assert tag_name("Val-Acc") == "val_acc"
    assert tag_name("mAP50") == "map50"
    assert tag_name("val_loss") == "val_loss"


def test_nan_and_inf_values_are_kept(tmp_path):
    p = tmp_path / "run.log"
    p.write_text(
        "".join(f"epoch {e} loss={v}\n" for e, v in enumerate(["0.9", "0.5", "nan", "inf"]))
    )
    steps, values = series(read(p), "loss")
    assert steps == [0, 1, 2, 3]
    assert values[:2] == [0.9, 0.5] and np.isnan(values[2]) and np.isinf(values[3])


# --- discovery by content, and what is not a training log ---------------------------------------


def test_discovery_sniffs_out_err_and_files_without_extension(tmp_path):
    lines = "".join(f"Epoch {e}/5 | Loss: {1 / e:.4f}\n" for e in range(1, 6))
    for name in ("slurm-42.out", "train.err", "stdout", "run.log", "run.txt"):
        (tmp_path / name).write_text(lines)
    (tmp_path / "LICENSE").write_text(lines)  # ignored by name
    (tmp_path / "weights").write_bytes(bytes(range(256)) * 40)  # binary, no extension
    (tmp_path / "data.csv").write_text(lines)  # a .csv is a table or nothing
    disc = discover(tmp_path)
    assert sorted(r.run for r in disc.runs) == [
        "run.log",
        "run.txt",
        "slurm-42.out",
        "stdout",
        "train.err",
    ]
    assert {r.format for r in disc.runs} == {"text"}
    reasons = {s.path: s.reason for s in disc.skipped}
    assert reasons["weights"] == "not a log format curvelint reads (no extension)"
    assert "ignored by name" in reasons["LICENSE"]
    assert "data.csv" in reasons


def test_too_few_lines_of_one_shape_is_not_a_log_and_says_why(tmp_path):
    p = tmp_path / "two.out"
    p.write_text("Epoch 1: loss=0.9\nEpoch 2: loss=0.8\nhello\n")
    fmt, reason = sniff_table(p)
    assert fmt is None
    assert "only 2 line(s) of one shape" in reason and "needs 3" in reason
    q = tmp_path / "noloss.log"
    q.write_text("".join(f"step {i}: speed {i * 2.5}\n" for i in range(10)))
    fmt, reason = sniff_table(q)
    assert fmt is None and "none with a loss-like value" in reason


def test_bad_input_names_the_file(tmp_path):
    empty = tmp_path / "empty.out"
    empty.write_bytes(b"")
    assert sniff_table(empty) == (
        None,
        "not a log format curvelint reads (.out): empty file (0 bytes)",
    )
    with pytest.raises(ReadError, match="empty file"):
        reader_for("text")._read_one("r", empty, tmp_path, None)
    res = load(tmp_path)
    assert not res.runs
    cut = tmp_path / "cut.log"
    # a NUL tail (crash while writing) after readable lines: the lines are read
    cut.write_bytes(
        b"".join(b"epoch %d loss=%.2f\n" % (e, 1 / (e + 1)) for e in range(5)) + b"\0" * 64
    )
    steps, _ = series(read(cut), "loss")
    assert steps == [0, 1, 2, 3, 4]


def test_table_logs_stay_tables(tmp_path):
    p = tmp_path / "training.log"
    p.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n2,0.7,0.8\n")
    assert sniff_table(p) == ("keras-csv", "")


def test_curves_shows_the_inferred_shape(capsys):
    assert main(["curves", str(CONSOLE / "epoch_bracket.txt")]) == 0
    out = capsys.readouterr().out
    assert 'line shape: lines "Epoch [<epoch>/<N>] TrainLoss=<x> TrainAcc=<x> ValLoss=<x>"' in out
    assert main(["curves", str(CONSOLE), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["format"] for r in doc["runs"]} == {"text"}


def test_check_finds_the_overfitting_a_console_log_shows(capsys):
    main(["check", str(CONSOLE / "epoch_bracket.txt"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    (run,) = doc["runs"]
    assert run["roles"]["train_loss"] == "train_loss" and run["roles"]["val_loss"] == "val_loss"
    assert "OVF001" in {f["code"] for f in run["findings"]}
