"""Folder layouts that used to be misread: Lightning ``version_N`` folders of one resumed run,
a run folder named like a split (Ultralytics' first run ``runs/detect/train/``), and a reader
forced for a file with ``--input-format``. The fixtures under ``fixtures/layouts/`` come from the
real writers (``fixtures/make_layout_fixtures.py``); the small cases here are written at test time
with TensorBoard's own writer; the real runs come from ../shared/real-logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from analyzer.cli import main
from analyzer.cli.common import INPUT_FORMATS
from analyzer.discover import discover
from analyzer.readers import FORMAT_ALIASES, FORMATS
from analyzer.readers.peek import step_span
from analyzer.readers.tensorboard.span import first_step, last_step
from analyzer.runs import load

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / ".." / "shared" / "real-logs"
LAYOUTS = ROOT / "fixtures" / "layouts"


def curve(run, tag: str) -> tuple[list[int], list[float]]:
    rows = run.frame[run.frame["tag"] == tag]
    return [int(x) for x in rows["step"]], [float(x) for x in rows["value"]]


def scalar_event(step: int, **values: float):
    summ = summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in values.items()]
    )
    return event_pb2.Event(step=step, wall_time=1.7e9 + step, summary=summ)


def write_events(folder: Path, steps, epoch_of=None, **extra: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    w = EventFileWriter(str(folder))
    w.add_event(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2"))
    for s in steps:
        epoch = {} if epoch_of is None else {"epoch": float(epoch_of(s))}
        w.add_event(scalar_event(s, train_loss=1.0 / (s + 1), **epoch, **extra))
    w.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


# --- Lightning version_N -------------------------------------------------------------------------


def test_versions_whose_steps_continue_are_one_run(tmp_path):
    logs = tmp_path / "lightning_logs"
    write_events(logs / "version_0", range(49, 1000, 50))
    write_events(logs / "version_1", range(1049, 2000, 50))
    write_events(logs / "version_2", range(2049, 3000, 50))
    write_events(logs / "version_3", range(49, 1000, 50))  # a new run: its steps start again
    result = load(tmp_path)
    runs = {r.id: r for r in result.runs}
    assert sorted(runs) == ["lightning_logs/version_0", "lightning_logs/version_3"]
    run = runs["lightning_logs/version_0"]
    steps = run.frame[run.frame["tag"] == "train_loss"]["step"].tolist()
    assert steps == list(range(49, 3000, 50))  # no folder prefix on the tags of later versions
    assert set(run.frame["tag"]) == {"train_loss"}
    assert len(run.files) == 3
    (note,) = [n for n in run.notes if n.startswith("resumed run")]
    assert "version_1 (from step 1049)" in note and "version_2 (from step 2049)" in note
    assert not any("restart" in n for n in run.notes)


def test_versions_that_restart_or_overlap_stay_separate(tmp_path):
    logs = tmp_path / "lightning_logs"
    write_events(logs / "version_0", range(0, 500, 10))
    write_events(logs / "version_1", range(300, 800, 10))  # starts before version_0 ended
    write_events(logs / "version_2", range(0, 500, 10))
    assert len(discover(tmp_path).runs) == 3


def test_span_of_an_event_file_from_its_head_and_tail(tmp_path):
    path = write_events(tmp_path / "run", range(0, 30000, 3), val_loss=0.5)
    assert path.stat().st_size > 4 * 65536  # the tail window starts mid-file
    assert first_step(path) == 0
    assert last_step(path) == 29997
    empty = tmp_path / "events.out.tfevents.0.empty"
    empty.write_bytes(b"")
    assert first_step(empty) is None and last_step(empty) is None


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-logs is absent")
def test_real_lightning_run_resumed_over_three_versions():
    result = load(REAL / "Kirito-012__Deep-Learning")
    runs = {r.id: r for r in result.runs}
    assert sorted(runs) == [
        "lightning_logs/version_0",
        "lightning_logs/version_2",
        "lightning_logs/version_6",
    ]
    run = runs["lightning_logs/version_2"]
    steps = run.frame[run.frame["tag"] == "train_loss"]["step"]
    assert (int(steps.min()), int(steps.max()), len(steps)) == (49, 9999, 200)
    assert steps.is_monotonic_increasing


def test_lightning_fixture_resumed_twice_then_a_new_run():
    """Both loggers of real Lightning sessions: version_1 and version_2 resume version_0 from its
    checkpoint, version_3 starts again; every version logs hp_metric at step 0."""
    result = load(LAYOUTS / "lightning")
    runs = {r.id: r for r in result.runs}
    assert sorted(runs) == [
        "csv_logs/version_0",
        "csv_logs/version_3",
        "lightning_logs/version_0",
        "lightning_logs/version_3",
    ]
    for logger in ("csv_logs", "lightning_logs"):
        run = runs[f"{logger}/version_0"]
        assert len(run.files) == 3
        steps, values = curve(run, "train_loss")
        assert steps == sorted(steps) and steps[0] == 7 and steps[-1] == 287
        val_steps, _ = curve(run, "val_loss")
        assert val_steps == [31, 63, 95, 127, 159, 191, 223, 255, 287]  # nine epochs, once each
        assert (run.roles.train_loss, run.roles.val_loss) == ("train_loss", "val_loss")
        notes = [n for n in run.notes if n.startswith("resumed run")]
        assert notes == [
            "resumed run: continued in version_1 (from step 103), version_2 (from step 199), "
            "whose steps go on after the folder before; read as one run"
        ]
        assert not any("restart" in n for n in run.notes)
        assert len(run.notes) == len(set(run.notes))  # each folder's notes said once
        new = runs[f"{logger}/version_3"]
        assert curve(new, "val_loss")[0] == [31, 63, 95, 127]
    # the two loggers saw the same training
    tb_steps, tb_values = curve(runs["lightning_logs/version_0"], "train_loss")
    csv_steps, csv_values = curve(runs["csv_logs/version_0"], "train_loss")
    assert tb_steps == csv_steps
    assert tb_values == pytest.approx(csv_values, rel=1e-6)


def test_lightning_csv_step_span(tmp_path):
    path = LAYOUTS / "lightning" / "csv_logs" / "version_1" / "metrics.csv"
    assert step_span(path) == (103, 191, 3.0)
    big = tmp_path / "metrics.csv"
    rows = "".join(f"{s // 100},{s},{1 / (s + 1):.12f},\n" for s in range(4049, 40000, 5))
    big.write_text("epoch,step,train_loss,val_loss\n" + rows)
    assert big.stat().st_size > 2 * 65536  # the tail window starts mid-line
    assert step_span(big) == (4049, 39999, 40.0)
    for text in ("", "epoch,loss\n1,0.5\n", "epoch,step,loss\n", "epoch,step,loss\nx,y,z\n"):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        assert step_span(bad) is None, text
    assert step_span(tmp_path / "missing.csv") is None


def test_a_new_run_at_epoch_0_is_not_a_resumed_one(tmp_path):
    """A short first run (steps 0-9) and a new run whose first logged step (49) comes after it:
    the new run starts at epoch 0, a resumed one never does."""
    logs = tmp_path / "lightning_logs"
    write_events(logs / "version_0", range(0, 10), epoch_of=lambda s: 0)
    write_events(logs / "version_1", range(49, 500, 50), epoch_of=lambda s: s // 100)
    write_events(logs / "version_2", range(549, 900, 50), epoch_of=lambda s: s // 100)
    runs = {r.run: r for r in discover(tmp_path).runs}
    assert sorted(runs) == ["lightning_logs/version_0", "lightning_logs/version_1"]
    assert len(runs["lightning_logs/version_1"].files) == 2


def test_both_loggers_in_one_version_folder_stitched_once(tmp_path):
    """TensorBoardLogger and CSVLogger writing to the same version folders: the metrics.csv of a
    version joined to the one before is the same run as its event files, not a run of its own."""
    logs = tmp_path / "lightning_logs"
    for n, steps in enumerate((range(49, 1000, 50), range(1049, 2000, 50))):
        write_events(logs / f"version_{n}", steps)
        (logs / f"version_{n}" / "metrics.csv").write_text(
            "epoch,step,train_loss\n" + "".join(f"{s // 50},{s},{1 / (s + 1)}\n" for s in steps)
        )
    disc = discover(tmp_path)
    assert [(r.run, r.format) for r in disc.runs] == [("lightning_logs/version_0", "tensorboard")]
    same = [s.path for s in disc.skipped if s.reason.startswith("same run as the TensorBoard")]
    assert same == ["lightning_logs/version_0/metrics.csv", "lightning_logs/version_1/metrics.csv"]


def test_unreadable_version_folder_is_not_stitched(tmp_path):
    """A version folder whose event file is cut before its first scalar (or is not an event file
    at all) cannot be placed: it stays a run of its own and is read with its own note."""
    logs = tmp_path / "lightning_logs"
    write_events(logs / "version_0", range(49, 1000, 50))
    cut = write_events(logs / "version_1", range(1049, 2000, 50))
    cut.write_bytes(cut.read_bytes()[:60])
    junk = logs / "version_2" / "events.out.tfevents.1.host.0"
    junk.parent.mkdir()
    junk.write_bytes(b"\xff" * 200)
    result = load(tmp_path)
    assert sorted(r.id for r in result.runs) == ["lightning_logs/version_0"]
    skipped = {s.path.split("/")[1]: s.reason for s in result.skipped}
    assert sorted(skipped) == ["version_1", "version_2"]
    assert all(reason for reason in skipped.values())


# --- a run folder named like a split -------------------------------------------------------------


def test_ultralytics_first_run_folder_named_train_is_its_own_run(tmp_path):
    run = tmp_path / "runs" / "detect" / "train"
    write_events(run, range(10))
    (run / "results.csv").write_text("epoch,train/box_loss\n1,0.5\n")
    (run / "args.yaml").write_text("task: detect\n")
    (run / "weights").mkdir()
    disc = discover(tmp_path)
    assert [r.run for r in disc.runs] == ["runs/detect/train"]
    assert any("same run as the TensorBoard" in s.reason for s in disc.skipped)


YOLO_TRAIN = ["train/box_loss", "train/cls_loss", "train/dfl_loss"]
YOLO_VAL = ["val/box_loss", "val/cls_loss", "val/dfl_loss"]


def test_ultralytics_fixture_one_run_per_train_folder():
    """Real Ultralytics runs (fixtures/make_ultralytics_runs.py): runs/detect/train and the second
    run, which Ultralytics 8.4 names train-2 (train2 before), each one run from its event files, the
    box/cls/dfl train and val components paired; results.csv is the same run."""
    result = load(LAYOUTS / "ultralytics")
    runs = {r.id: r for r in result.runs}
    assert sorted(runs) == ["runs/detect/train", "runs/detect/train-2"]  # not runs/detect
    for rid, epochs in (("runs/detect/train", 30), ("runs/detect/train-2", 12)):
        run = runs[rid]
        assert run.format == "tensorboard"
        assert set(YOLO_TRAIN + YOLO_VAL) <= set(run.frame["tag"])
        assert not any("/train/" in t or t.startswith("train/val") for t in run.frame["tag"])
        assert run.roles.train_loss == "train/sum(box_loss+cls_loss+dfl_loss)"
        assert run.roles.val_loss == "val/sum(box_loss+cls_loss+dfl_loss)"
        assert run.roles.val_metric == "metrics/recall(B)"
        for tag in ["val/box_loss", "train/box_loss", "metrics/mAP50(B)", "lr/pg0"]:
            assert curve(run, tag)[0] == list(range(1, epochs + 1)), tag
        # the validation of best.pt after the last epoch, logged at step epochs + 1, is left out
        assert any(f"at step {epochs + 1} left out" in n for n in run.notes)
    reasons = {s.path: s.reason for s in result.skipped}
    for rid in runs:
        assert reasons[f"{rid}/results.csv"].startswith("same run as the TensorBoard event files")


@pytest.mark.parametrize("name", ["train", "train-2"])
def test_ultralytics_results_csv_agrees_with_its_event_files(name):
    """Named on the command line, results.csv (epoch,time,... with %.6g values) is read by its own
    reader and holds the same curves as the event files beside it."""
    folder = LAYOUTS / "ultralytics" / "runs" / "detect" / name
    (tb,) = load(folder).runs
    (csv,) = load(folder / "results.csv").runs
    assert csv.format == "ultralytics-csv"
    assert (csv.roles.train_loss, csv.roles.val_loss) == (tb.roles.train_loss, tb.roles.val_loss)
    tags = YOLO_TRAIN + YOLO_VAL + ["metrics/mAP50-95(B)", "metrics/recall(B)", "lr/pg0"]
    for tag in tags:
        assert curve(csv, tag)[0] == curve(tb, tag)[0], tag
        assert curve(csv, tag)[1] == pytest.approx(curve(tb, tag)[1], rel=1e-5, abs=1e-9), tag
    assert set(csv.frame["tag"]) - set(tb.frame["tag"]) == {"time"}


def test_ultralytics_final_validation_point_is_left_out(tmp_path):
    """Ultralytics' final_eval logs the metrics of best.pt at step epochs + 1 (no losses there)."""
    run = tmp_path / "runs" / "detect" / "train"
    w = EventFileWriter(str(run))
    for step in range(1, 6):
        for tag in ["train/box_loss", "val/box_loss", "metrics/mAP50(B)"]:
            w.add_event(scalar_event(step, **{tag: 1.0 / step}))
    w.add_event(scalar_event(6, **{"metrics/mAP50(B)": 1.0}))  # best.pt: epoch 1's score again
    w.close()
    (loaded,) = load(run).runs
    assert curve(loaded, "metrics/mAP50(B)")[0] == [1, 2, 3, 4, 5]
    assert any("at step 6 left out" in n for n in loaded.notes)


def test_metrics_past_the_last_step_are_kept_unless_they_are_that_one_point(tmp_path):
    """Not Ultralytics' layout (no loss tags), or more than one point past the end: kept."""
    for name, tags, extra in (
        ("no_losses", ["metrics/acc"], [6]),
        ("two_more", ["train/box_loss", "val/box_loss", "metrics/mAP50(B)"], [6, 7]),
    ):
        w = EventFileWriter(str(tmp_path / name))
        for step in range(1, 6):
            for tag in tags:
                w.add_event(scalar_event(step, **{tag: 0.5}))
        for step in extra:
            w.add_event(scalar_event(step, **{tags[-1]: 0.5}))
        w.close()
        (loaded,) = load(tmp_path / name).runs
        assert curve(loaded, tags[-1])[0] == list(range(1, 6)) + extra, name


def test_keras_split_folders_are_still_merged(tmp_path):
    write_events(tmp_path / "fit" / "train", range(5))
    write_events(tmp_path / "fit" / "validation", range(5))
    (tmp_path / "fit" / "train" / "plugins" / "profile").mkdir(parents=True)
    write_events(tmp_path / "only_train" / "train", range(5))  # no validation data
    assert sorted(r.run for r in discover(tmp_path).runs) == ["fit", "only_train"]


# --- --input-format ------------------------------------------------------------------------------


def test_input_format_names_match_the_readers():
    assert set(INPUT_FORMATS) == (set(FORMATS) - {"mlflow"}) | set(FORMAT_ALIASES)


def test_input_format_forces_a_reader_for_a_file(tmp_path, capsys):
    state = {
        "log_history": [
            {"loss": 1.0 / (s + 1), "learning_rate": 1e-4, "epoch": s / 10, "step": s * 10}
            for s in range(1, 8)
        ]
        + [{"eval_loss": 0.9, "epoch": 0.7, "step": 70}]
    }
    dump = tmp_path / "__init__.py"
    dump.write_text(json.dumps(state))
    assert main(["curves", str(dump)]) == 2
    assert "not a log format curvelint reads (.py)" in capsys.readouterr().out
    assert main(["curves", str(dump), "--input-format", "hf", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (run,) = doc["runs"]
    assert run["format"] == "hf-trainer-state"
    assert run["roles"]["train_loss"] == "loss" and run["roles"]["val_loss"] == "eval_loss"
    assert "read as hf-trainer-state (--input-format)" in run["notes"]
    # check takes it too, and a wrong reader says why, naming the file
    assert main(["check", str(dump), "--input-format", "hf", "--no-cache", "--exit-zero"]) == 0
    capsys.readouterr()
    assert main(["check", str(dump), "--input-format", "keras-csv", "--no-cache"]) == 2
    out = capsys.readouterr()
    assert "__init__.py" in out.out + out.err


def test_input_format_on_a_real_trainer_state_saved_under_another_name(capsys):
    """A state the real HF Trainer saved, under a name discovery does not pick."""
    dump = LAYOUTS / "odd_names" / "trainer_state.json.bak"
    assert main(["curves", str(dump.parent)]) == 2
    assert "trainer_state.json.bak: not a log format curvelint reads (.bak)" in (
        capsys.readouterr().out
    )
    (run,) = load([dump], input_format="hf").runs
    history = json.loads(dump.read_text())["log_history"]
    assert run.format == "hf-trainer-state"
    assert (run.roles.train_loss, run.roles.val_loss) == ("loss", "eval_loss")
    assert curve(run, "loss")[0] == [e["step"] for e in history if "loss" in e]
    assert curve(run, "eval_loss")[1] == pytest.approx(
        [e["eval_loss"] for e in history if "eval_loss" in e]
    )
    assert main(["check", str(dump), "--input-format", "hf-trainer-state", "--no-cache"]) in (0, 1)
    out = capsys.readouterr().out
    assert "trainer_state.json.bak" in out


def test_input_format_leaves_folders_alone(tmp_path):
    write_events(tmp_path / "run", range(5))
    (tmp_path / "run" / "notes.py").write_text("x = 1\n")
    result = load(tmp_path, input_format="text")
    assert [r.format for r in result.runs] == ["tensorboard"]


def test_unknown_input_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["curves", str(tmp_path), "--input-format", "mlflow"])
    assert e.value.code == 2
