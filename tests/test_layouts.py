"""Folder layouts that used to be misread: a run folder named like a split (Ultralytics' first
run ``runs/detect/train/``). The fixtures under ``fixtures/layouts/`` come from the
real writers (``fixtures/make_layout_fixtures.py``); the small cases here are written at test time
with TensorBoard's own writer; the real runs come from ../shared/real-logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from analyzer.discover import discover
from analyzer.runs import load

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ROOT / "fixtures" / "layouts"


def curve(run, tag: str) -> tuple[list[int], list[float]]:
    rows = run.frame[run.frame["tag"] == tag]
    return [int(x) for x in rows["step"]], [float(x) for x in rows["value"]]


def scalar_event(step: int, **values: float):
    summ = summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in values.items()]
    )
    return event_pb2.Event(step=step, wall_time=1.7e9 + step, summary=summ)


def write_events(folder: Path, steps, **extra: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    w = EventFileWriter(str(folder))
    w.add_event(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2"))
    for s in steps:
        w.add_event(scalar_event(s, train_loss=1.0 / (s + 1), **extra))
    w.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


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
    """YOLOv8's runs/detect/train (8.3) and train2 (8.0): each one run from its event files, the
    box/cls/dfl train and val components paired; results.csv is the same run."""
    result = load(LAYOUTS / "ultralytics")
    runs = {r.id: r for r in result.runs}
    assert sorted(runs) == ["runs/detect/train", "runs/detect/train2"]  # not runs/detect
    for rid, epochs in (("runs/detect/train", 30), ("runs/detect/train2", 12)):
        run = runs[rid]
        assert run.format == "tensorboard"
        assert set(YOLO_TRAIN + YOLO_VAL) <= set(run.frame["tag"])
        assert not any("/train/" in t or t.startswith("train/val") for t in run.frame["tag"])
        assert run.roles.train_loss == "train/sum(box_loss+cls_loss+dfl_loss)"
        assert run.roles.val_loss == "val/sum(box_loss+cls_loss+dfl_loss)"
        assert run.roles.val_metric == "metrics/recall(B)"
        steps, _ = curve(run, "val/box_loss")
        assert steps == list(range(1, epochs + 1))
    reasons = {s.path: s.reason for s in result.skipped}
    for rid in runs:
        assert reasons[f"{rid}/results.csv"].startswith("same run as the TensorBoard event files")


@pytest.mark.parametrize("name", ["train", "train2"])
def test_ultralytics_results_csv_agrees_with_its_event_files(name):
    """Named on the command line, results.csv (8.3: epoch,time,... / 8.0: %23s padded) is read
    by its own reader and holds the same curves as the event files beside it."""
    folder = LAYOUTS / "ultralytics" / "runs" / "detect" / name
    (tb,) = load(folder).runs
    (csv,) = load(folder / "results.csv").runs
    assert csv.format == "ultralytics-csv"
    assert (csv.roles.train_loss, csv.roles.val_loss) == (tb.roles.train_loss, tb.roles.val_loss)
    for tag in YOLO_VAL + ["metrics/mAP50-95(B)"]:
        assert curve(csv, tag)[0] == curve(tb, tag)[0]
        assert curve(csv, tag)[1] == pytest.approx(curve(tb, tag)[1], rel=1e-4)
    # the 8.0 callback logged the running mean after every batch; its last is the epoch's value
    tb_steps, tb_values = curve(tb, "train/box_loss")
    last = {s: v for s, v in zip(tb_steps, tb_values, strict=True)}
    csv_steps, csv_values = curve(csv, "train/box_loss")
    assert [last[s] for s in csv_steps] == pytest.approx(csv_values, rel=1e-4)


def test_keras_split_folders_are_still_merged(tmp_path):
    write_events(tmp_path / "fit" / "train", range(5))
    write_events(tmp_path / "fit" / "validation", range(5))
    (tmp_path / "fit" / "train" / "plugins" / "profile").mkdir(parents=True)
    write_events(tmp_path / "only_train" / "train", range(5))  # no validation data
    assert sorted(r.run for r in discover(tmp_path).runs) == ["fit", "only_train"]
