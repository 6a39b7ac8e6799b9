"""JSON-based readers: Hugging Face trainer_state.json, JSON lines, MLflow file store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analyzer.readers import COLUMNS, ReadError, reader_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "text"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def series(res, tag: str) -> tuple[list[int], list[float]]:
    f = res.frame[res.frame["tag"] == tag]
    return f["step"].tolist(), f["value"].tolist()


def state(log_history: list, **top) -> str:
    d = {"best_metric": 0.5, "best_model_checkpoint": "out/checkpoint-20", "global_step": 30, **top}
    d["log_history"] = log_history
    return json.dumps(d, indent=2)


HISTORY = [
    {"epoch": 0.5, "grad_norm": 2.0, "learning_rate": 5e-5, "loss": 1.5, "step": 10},
    {"epoch": 1.0, "eval_loss": 1.2, "eval_accuracy": 0.6, "eval_runtime": 3.1, "step": 20},
    {
        "epoch": 1.0,
        "grad_norm": float("nan"),
        "learning_rate": 4e-5,
        "loss": float("nan"),
        "step": 20,
    },
    {
        "epoch": 1.5,
        "step": 30,
        "total_flos": 1e12,
        "train_loss": 1.3,
        "train_runtime": 80.0,
        "train_samples_per_second": 9.5,
        "train_steps_per_second": 1.1,
    },
]


# --- Hugging Face ----------------------------------------------------------------------------


def test_hf_trainer_state_tags_steps_nan_and_summary(tmp_path):
    p = write(tmp_path / "trainer_state.json", state(HISTORY))
    assert "NaN" in p.read_text()  # json.dumps writes bare NaN tokens, as transformers does
    res = reader_for("hf-trainer-state").read("run", [p], tmp_path)
    f = res.frame
    assert list(f.columns) == COLUMNS
    assert set(f["tag"]) == {
        "loss",
        "grad_norm",
        "learning_rate",
        "eval_loss",
        "eval_accuracy",
        "eval_runtime",
        "epoch",
    }
    steps, values = series(res, "loss")
    assert steps == [10, 20] and values[0] == 1.5 and math.isnan(values[1])
    assert series(res, "eval_loss") == ([20], [1.2])
    # one epoch point per step, the summary's epoch not included
    assert series(res, "epoch") == ([10, 20], [0.5, 1.0])
    assert "train_loss" not in set(f["tag"]) and "train_runtime" not in set(f["tag"])
    assert any("summary" in n and "train_runtime=80" in n for n in res.notes)
    assert res.hparams["best_model_checkpoint"] == "out/checkpoint-20"
    assert res.hparams["best_metric"] == 0.5
    assert "log_history" not in res.hparams


def test_hf_checkpoint_copies_are_merged_without_duplicates(tmp_path):
    final = write(tmp_path / "out" / "trainer_state.json", state(HISTORY))
    ckpt = write(
        tmp_path / "out" / "checkpoint-10" / "trainer_state.json",
        state(HISTORY[:1], global_step=10),
    )
    res = reader_for("hf-trainer-state").read("run", [final, ckpt], tmp_path / "out")
    assert series(res, "loss")[0] == [10, 20]
    assert series(res, "grad_norm")[0] == [10, 20]
    assert not any("restart" in n for n in res.notes)


def test_hf_bad_files(tmp_path):
    bad = write(tmp_path / "a" / "trainer_state.json", '{"log_history": [{"loss": 1.0, "step": 1}')
    with pytest.raises(ReadError) as e:
        reader_for("hf-trainer-state").read("run", [bad], bad.parent)
    assert e.value.path == str(bad) and "not valid JSON" in e.value.reason
    other = write(tmp_path / "b" / "trainer_state.json", '{"epoch": 3}')
    with pytest.raises(ReadError, match="log_history"):
        reader_for("hf-trainer-state").read("run", [other], other.parent)
    empty = write(tmp_path / "c" / "trainer_state.json", b"")
    with pytest.raises(ReadError, match="empty"):
        reader_for("hf-trainer-state").read("run", [empty], empty.parent)


# --- JSON lines ------------------------------------------------------------------------------


def test_jsonl_nested_nan_bad_lines_and_step_fill(tmp_path):
    p = write(
        tmp_path / "log.jsonl",
        '{"step": 0, "train": {"loss": 1.0}, "lr": 0.1, "time": 1700000000.5}\n'
        '{"step": 1, "train": {"loss": NaN}, "lr": 0.1, "phase": "train"}\n'
        "Epoch 1 done\n"
        '{"eval_loss": 0.7}\n'
        "[1, 2]\n"
        '{"step": 2, "train": {"loss": Infinity}, "flag": true}\n',
    )
    res = reader_for("jsonl").read("run", [p], tmp_path)
    steps, values = series(res, "train/loss")
    assert (
        steps == [0, 1, 2] and values[0] == 1.0 and math.isnan(values[1]) and values[2] == math.inf
    )
    assert series(res, "eval_loss") == ([1], [0.7])  # took the step before
    assert set(res.frame["tag"]) == {"train/loss", "lr", "eval_loss"}
    assert res.frame.loc[res.frame["step"] == 0, "wall_time"].tolist() == [1700000000.5] * 2
    notes = " | ".join(res.notes)
    assert "1 line(s) that are not valid JSON" in notes
    assert "not objects" in notes
    assert "'phase'" in notes and "'flag'" in notes


def test_jsonl_numbers_written_as_strings(tmp_path):
    # loggers that serialise str(loss) write "nan" / "0.5": they are numbers, not text
    p = write(
        tmp_path / "log.jsonl",
        '{"epoch": 0, "loss": 0.9, "phase": "train"}\n'
        '{"epoch": 1, "loss": "0.5", "phase": "train"}\n'
        '{"epoch": 2, "loss": "nan", "phase": "train"}\n'
        '{"epoch": 3, "loss": "-Infinity", "phase": "eval"}\n',
    )
    res = reader_for("jsonl").read("run", [p], tmp_path)
    steps, values = series(res, "loss")
    assert steps == [0, 1, 2, 3] and values[:2] == [0.9, 0.5]
    assert math.isnan(values[2]) and values[3] == -math.inf
    assert "'phase'" in " | ".join(res.notes)


def test_jsonl_without_step_key_uses_line_order(tmp_path):
    # several records per epoch: epoch is no step, the line order is
    lines = [json.dumps({"loss": 1.0 / (i + 1), "epoch": i // 3}) for i in range(6)]
    p = write(tmp_path / "m.ndjson", "\n".join(lines) + "\n")
    res = reader_for("jsonl").read("run", [p], tmp_path)
    assert series(res, "loss")[0] == [0, 1, 2, 3, 4, 5]
    assert series(res, "epoch") == ([0, 3, 5], [0, 1, 1])


def test_json_documents(tmp_path):
    hist = write(
        tmp_path / "history.json", json.dumps({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]})
    )
    res = reader_for("jsonl").read("run", [hist], tmp_path)
    assert series(res, "val_loss") == ([0, 1], [1.1, 0.6])
    lst = write(
        tmp_path / "log.json",
        json.dumps([{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.6}], indent=1),
    )
    assert series(reader_for("jsonl").read("run", [lst], tmp_path), "acc") == ([1, 2], [0.5, 0.6])
    ts = write(tmp_path / "x" / "trainer_state.json", state(HISTORY))
    res = reader_for("jsonl").read("run", [ts], ts.parent)
    assert series(res, "eval_loss") == ([20], [1.2])


@pytest.mark.parametrize(
    "content,why",
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"hello\nworld\n", "not JSON"),
        (b"\x00\x01\x02" * 50, "binary"),
    ],
)
def test_jsonl_bad_input(tmp_path, content, why):
    p = write(tmp_path / "bad.jsonl", content)
    with pytest.raises(ReadError) as e:
        reader_for("jsonl").read("run", [p], tmp_path)
    assert e.value.path == str(p) and why in e.value.reason


# --- MLflow ----------------------------------------------------------------------------------


def mlflow_fixture_run() -> Path:
    runs = [
        m.parent for m in FIXTURES.glob("mlruns/*/*/meta.yaml") if (m.parent / "metrics").is_dir()
    ]
    assert len(runs) == 1
    return runs[0]


def test_mlflow_fixture_written_by_mlflow():
    run = mlflow_fixture_run()
    files = sorted(p for p in (run / "metrics").rglob("*") if p.is_file())
    res = reader_for("mlflow").read("r", files, run)
    assert list(res.frame.columns) == COLUMNS
    assert set(res.frame["tag"]) == {"train/loss", "val_loss", "no_step_metric"}
    steps, values = series(res, "train/loss")
    assert steps == [0, 10, 20, 30, 40] and values[1] == 0.5
    assert series(res, "val_loss")[0] == [0, 20, 40]
    # logged without step -> all 0 in the file -> logging order
    assert series(res, "no_step_metric") == ([0, 1, 2], [0.5, 0.6, 0.7])
    wt = res.frame["wall_time"].to_numpy()
    assert np.all(wt > 1.5e9) and np.all(wt < 1e11)  # seconds, not ms
    assert res.hparams["mlflow.runName"] == "tiny-sgd"
    assert (
        res.hparams["lr"] == 0.01
        and res.hparams["optimizer"] == "sgd"
        and res.hparams["batch_size"] == 32
    )
    assert any("tiny-sgd" in n for n in res.notes)
    # reading with no paths walks metrics/ itself
    assert len(reader_for("mlflow").read("r", [], run).frame) == len(res.frame)


def test_mlflow_old_format_bad_lines_and_status(tmp_path):
    run = tmp_path / "mlruns" / "0" / "abc"
    write(
        run / "meta.yaml", "run_id: abc\nrun_name: old-run\nstatus: 4\nlifecycle_stage: deleted\n"
    )
    write(
        run / "metrics" / "loss",
        "1500000000000 1.0\n1500000001000 0.5\ngarbage\n1500000002000 nan\n",
    )
    write(
        run / "metrics" / "acc", "1500000000000 0.1 0\n1500000001000 0.2 5\n1500000002000 0.3 3\n"
    )
    write(run / "metrics" / "empty", "")
    write(run / "params" / "model" / "depth", "12")
    files = sorted(p for p in (run / "metrics").rglob("*") if p.is_file())
    res = reader_for("mlflow").read("r", files, run)
    steps, values = series(res, "loss")
    assert steps == [0, 1, 2] and values[:2] == [1.0, 0.5] and math.isnan(values[2])
    assert series(res, "acc") == ([0, 3], [0.1, 0.3])  # step went back: resumed run wins
    assert res.frame.loc[res.frame["tag"] == "loss", "wall_time"].iloc[0] == 1.5e9
    notes = " | ".join(res.notes)
    assert "1 malformed line" in notes and "old format without steps" in notes
    assert "deleted" in notes and "FAILED" in notes and "old-run" in notes
    assert res.hparams["model/depth"] == 12
    assert (str(run / "metrics" / "empty"), "empty metric file") in res.skipped


def test_mlflow_nothing_usable(tmp_path):
    run = tmp_path / "r"
    bad = write(run / "metrics" / "loss", "x y z\n")
    with pytest.raises(ReadError) as e:
        reader_for("mlflow").read("r", [bad], run)
    assert e.value.path == str(bad)


def test_trainer_state_steps_beyond_int64_and_deep_nesting(tmp_path):
    # once an "internal error" that lost the whole file (OverflowError / RecursionError)
    hist = [{"loss": 1.0 / i, "epoch": i / 10, "step": 10 * i} for i in range(1, 30)]
    hist += [{"loss": 0.01, "step": 10**19}, {"loss": 0.02, "step": 10**400}]
    p = write(tmp_path / "a" / "trainer_state.json", json.dumps({"log_history": hist}))
    res = reader_for("hf-trainer-state").read("run", [p], p.parent)
    steps, values = series(res, "loss")
    assert steps == [10 * i for i in range(1, 30)] and values[-1] == pytest.approx(1 / 29)
    assert "2 log entr(ies) with a step beyond 64-bit integers dropped" in " | ".join(res.notes)
    deep = write(
        tmp_path / "b" / "trainer_state.json", '{"log_history": ' + "[" * 5000 + "]" * 5000 + "}"
    )
    with pytest.raises(ReadError, match="nested too deeply"):
        reader_for("hf-trainer-state").read("run", [deep], deep.parent)
