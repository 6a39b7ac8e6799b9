"""Text-table readers: sniffing, the messy details of real CSVs, and bad input.

Fixtures under fixtures/text/ were written by the real writers (Keras CSVLogger, Lightning
CSVLogger; see fixtures/make_text_fixtures.py); the rest are written here byte by byte to pin one
quirk each.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer.readers import COLUMNS, ReadError, reader_for, sniff_table
from analyzer.readers.hparams import parse_yaml
from analyzer.readers.table import read_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "text"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    p.write_bytes(content)
    return p


def read(path: Path, fmt: str | None = None):
    fmt = fmt or sniff_table(path)[0]
    assert fmt is not None
    return reader_for(fmt).read("run", [path], path.parent)


def series(res, tag: str) -> tuple[list[int], list[float]]:
    f = res.frame[res.frame["tag"] == tag]
    return f["step"].tolist(), f["value"].tolist()


def check_contract(res) -> None:
    f = res.frame
    assert list(f.columns) == COLUMNS
    assert f["step"].dtype == np.int64
    assert f["value"].dtype == np.float64
    assert f["wall_time"].dtype == np.float64
    # sorted by tag then step
    assert f.sort_values(["tag", "step"], kind="stable").index.equals(f.index)


# --- fixtures written by the real writers ---------------------------------------------------


def test_keras_csvlogger_fixture_na_and_resume():
    p = FIXTURES / "keras" / "training.log"
    assert sniff_table(p) == ("keras-csv", "")
    res = read(p)
    check_contract(res)
    assert set(res.frame["tag"]) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    steps, values = series(res, "loss")
    assert steps == [0, 1, 2, 3, 4]
    # epochs 2 and 3 were logged again after the resume: the resumed values win
    raw = pd.read_csv(p)
    assert values[2] == pytest.approx(raw["loss"].iloc[4])
    assert values[0] == pytest.approx(raw["loss"].iloc[0])
    # NA at epoch 0 (validation_freq=2): no point, not a NaN point
    vsteps, vvalues = series(res, "val_loss")
    assert vsteps == [1, 2, 3, 4]
    assert not any(math.isnan(v) for v in vvalues)
    assert any("restart" in n for n in res.notes)


def test_keras_semicolon_fixture():
    p = FIXTURES / "keras_semicolon" / "history.csv"
    assert sniff_table(p) == ("keras-csv", "")
    res = read(p)
    check_contract(res)
    assert series(res, "val_loss")[0] == [0, 1, 2]
    assert any("semicolon" in n for n in res.notes)


def test_lightning_csvlogger_fixture():
    p = FIXTURES / "lightning_logs" / "version_0" / "metrics.csv"
    assert sniff_table(p) == ("lightning-csv", "")
    res = read(p)
    check_contract(res)
    tags = set(res.frame["tag"])
    assert {"train_loss_step", "train_loss_epoch", "val_loss", "test_loss", "epoch"} <= tags
    raw = pd.read_csv(p)
    # only non-empty cells become points, at the step column's value
    assert (
        series(res, "train_loss_step")[0]
        == raw.loc[raw["train_loss_step"].notna(), "step"].tolist()
    )
    assert len(series(res, "test_loss")[0]) == 1
    assert series(res, "test_loss")[0][0] == raw["step"].max()
    # the epoch axis: first logged step of each epoch (rows "0,1", "1,5", "2,9", "3,12"), + last
    assert series(res, "epoch") == ([1, 5, 9, 12], [0.0, 1.0, 2.0, 3.0])
    assert res.hparams == {"hidden": 8, "lr": 0.05}
    assert any("once per epoch" in n and "val_loss" in n for n in res.notes)


def test_simple_yaml_parser_matches_pyyaml_on_real_files():
    yaml = pytest.importorskip("yaml")
    files = [FIXTURES / "lightning_logs" / "version_0" / "hparams.yaml"]
    real = Path(__file__).resolve().parents[2] / "shared" / "real-logs"
    files += sorted(real.glob("Grafit-Kil__helmet-detection-yolov5/runs/train/*/opt.yaml"))
    for f in files:
        text = f.read_text()
        assert parse_yaml(text) == yaml.safe_load(text), f


def test_simple_yaml_parser_subset():
    text = "a: 1\nb:\n  c: 0.5\n  d: 'x'\nlist:\n- 1\n- two\nflag: true\nnone: null\nt: !!python/tuple [1, 2]\n"
    got = parse_yaml(text)
    assert got["a"] == 1 and got["b"] == {"c": 0.5, "d": "x"}
    assert got["list"] == [1, "two"] and got["flag"] is True and got["none"] is None
    assert got["t"] == [1, 2]


def test_yaml_numbers_as_the_former_parser_read_them():
    got = parse_yaml("lr: 1e-3\nq: '1e-3'\nbig: 1.0e+3\nx: inf\nname: run-1\nn: 007\n")
    assert got == {"lr": 0.001, "q": "1e-3", "big": 1000.0, "x": math.inf, "name": "run-1", "n": 7}


def test_damaged_hparams_yaml_is_noted_not_fatal(tmp_path):
    from analyzer.readers.base import ReadResult
    from analyzer.readers.hparams import YamlError, read_sidecar_hparams

    with pytest.raises(YamlError, match=r"hparams.yaml: not valid YAML at line 3"):
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "hparams.yaml")
    write(tmp_path, "hparams.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    res = ReadResult(frame=pd.DataFrame())
    read_sidecar_hparams(tmp_path, ["hparams.yaml"], res)
    assert res.hparams == {}
    assert any(n.startswith("hparams.yaml: not valid YAML") for n in res.notes)


# --- quirks, one file each -------------------------------------------------------------------


def test_bom_title_line_crcrlf_trailing_separator_na_nan_inf(tmp_path):
    p = write(
        tmp_path,
        "log.csv",
        b"\xef\xbb\xbfTraining log, run 3\r\r\nepoch,loss,val_loss,\r\r\n"
        b"0,1.0,NA,\r\r\n1,nan,0.5,\r\r\n2,inf,,\r\r\n3,0.25,0.4,\r\r\n",
    )
    assert sniff_table(p) == ("keras-csv", "")
    res = read(p)
    check_contract(res)
    steps, values = series(res, "loss")
    assert steps == [0, 1, 2, 3]
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2] == math.inf
    assert series(res, "val_loss") == ([1, 3], [0.5, 0.4])  # NA and empty: no point
    assert set(res.frame["tag"]) == {"loss", "val_loss"}  # no column for the trailing comma
    assert any("above the header" in n for n in res.notes)


def test_header_repeated_mid_file_after_restart(tmp_path):
    p = write(
        tmp_path,
        "history.csv",
        "epoch,loss\n0,1.0\n1,0.8\n2,0.7\nepoch,loss\n1,0.75\n2,0.6\n3,0.5\n",
    )
    res = read(p)
    assert series(res, "loss") == ([0, 1, 2, 3], [1.0, 0.75, 0.6, 0.5])
    assert any("header line repeated" in n for n in res.notes)
    assert any("restart" in n for n in res.notes)


def test_ultralytics_v8_padded_headers(tmp_path):
    header = [
        "epoch",
        "train/box_loss",
        "train/cls_loss",
        "metrics/mAP50(B)",
        "val/box_loss",
        "lr/pg0",
    ]
    rows = [[1, 1.2, 3.4, 0.1, 1.5, 0.00333], [2, 1.1, 2.9, 0.2, 1.4, 0.0066]]
    text = ",".join(f"{h:>20}" for h in header) + "\n"
    text += "".join(",".join(f"{v:>20}" for v in r) + "\n" for r in rows)
    p = write(tmp_path, "results.csv", text)
    assert sniff_table(p) == ("ultralytics-csv", "")
    res = read(p)
    assert set(res.frame["tag"]) == set(header[1:])
    assert series(res, "metrics/mAP50(B)") == ([1, 2], [0.1, 0.2])


@pytest.mark.parametrize(
    "name,text",
    [
        ("a.tsv", "step\tloss\tacc\n0\t1.0\t0.1\n10\t0.5\t0.2\n"),
        ("b.txt", "step   loss   acc\n0   1.0   0.1\n10   0.5   0.2\n"),
        (
            "c.log",
            "| step | loss | acc |\n|------|------|-----|\n| 0 | 1.0 | 0.1 |\n| 10 | 0.5 | 0.2 |\n",
        ),
        ("d.csv", '"step","loss","acc"\n"0","1.0","0.1"\n"10","0.5","0.2"\n'),
        ("e.csv", "step;loss;acc\n0;1,0;0,1\n10;0,5;0,2\n"),  # decimal commas
        ("f.dat", "step,loss,acc\r0,1.0,0.1\r10,0.5,0.2\r"),  # old Mac line ends
    ],
)
def test_separators_and_quoting(tmp_path, name, text):
    p = write(tmp_path, name, text)
    assert sniff_table(p) == ("csv", "")
    res = read(p)
    check_contract(res)
    assert series(res, "loss") == ([0, 10], [1.0, 0.5])
    assert series(res, "acc") == ([0, 10], [0.1, 0.2])
    assert set(res.frame["tag"]) == {"loss", "acc"}


def test_utf16_file(tmp_path):
    p = write(tmp_path, "log.txt", "epoch,loss\n0,1.0\n1,0.5\n".encode("utf-16"))
    assert sniff_table(p)[0] == "keras-csv"
    assert series(read(p), "loss") == ([0, 1], [1.0, 0.5])


def test_tensor_cells_are_unwrapped(tmp_path):
    p = write(
        tmp_path, "log.csv", "epoch,loss\n0,\"tensor(0.53, device='cuda:0')\"\n1,tensor(0.4)\n"
    )
    res = read(p, "csv")
    assert series(res, "loss") == ([0, 1], [0.53, 0.4])
    assert any("tensor(" in n for n in res.notes)


def test_generic_epoch_and_batch_columns_use_row_number(tmp_path):
    # like 0111yoyo/GAN1202: Epoch repeats, Batch restarts every epoch
    rows = [f"{e},{b},{1.0 / (1 + e * 3 + b)},{0.5}" for e in range(3) for b in range(3)]
    p = write(
        tmp_path, "training_log.csv", "Epoch,Batch,Gen Loss,Disc Loss\n" + "\n".join(rows) + "\n"
    )
    assert sniff_table(p) == ("csv", "")
    res = read(p)
    assert set(res.frame["tag"]) == {"Gen Loss", "Disc Loss", "epoch"}
    steps, _ = series(res, "Gen Loss")
    assert steps == list(range(9))
    # epoch axis: where the epoch changes, plus the last row
    assert series(res, "epoch") == ([0, 3, 6, 8], [0, 1, 2, 2])
    assert not any("restart(s) detected" in n for n in res.notes)
    assert any("restarts every epoch" in n for n in res.notes)


def test_generic_step_restart_and_wall_time(tmp_path):
    p = write(
        tmp_path,
        "log.csv",
        "timestamp,iteration,loss\n1700000000,0,1.0\n1700000010,100,0.9\n1700000020,200,0.8\n"
        "1700000100,100,0.85\n1700000110,200,0.7\n",
    )
    res = read(p)
    assert series(res, "loss") == ([0, 100, 200], [1.0, 0.85, 0.7])
    assert set(res.frame["tag"]) == {"loss"}
    assert res.frame["wall_time"].tolist() == [1700000000.0, 1700000100.0, 1700000110.0]


def test_generic_without_step_column_uses_row_index(tmp_path):
    p = write(tmp_path, "losses.csv", "train_loss,val_loss\n1.0,1.1\n0.5,0.6\n0.25,0.3\n")
    assert sniff_table(p) == ("csv", "")
    res = read(p)
    assert series(res, "val_loss") == ([0, 1, 2], [1.1, 0.6, 0.3])


def test_text_cells_in_numeric_column_are_dropped_and_counted(tmp_path):
    lines = [f"{i},{'abc' if i % 4 == 0 else 1.0 / (i + 1)},{i}" for i in range(40)]
    p = write(tmp_path, "log.csv", "step,loss,acc\n" + "\n".join(lines) + "\n")
    res = read(p)
    steps, _ = series(res, "loss")
    assert len(steps) == 30 and 0 not in steps
    assert any("'loss'" in n and "'abc'" in n and "10 of 40" in n for n in res.notes)


def test_text_column_is_ignored_with_note(tmp_path):
    p = write(tmp_path, "log.csv", "epoch,phase,loss\n0,train,1.0\n1,train,0.5\n")
    res = read(p, "csv")
    assert set(res.frame["tag"]) == {"loss"}
    assert any("'phase'" in n and "ignored" in n for n in res.notes)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,why",
    [
        (b"", "empty file (0 bytes)"),
        (b"\n\n  \r\n", "empty file"),
        (b"epoch,loss,val_loss\n", "single line"),
        (
            b"This is a readme. It explains how to train the model.\nRun train.py and wait.\n",
            "prose",
        ),
        (b"numpy==1.26\npandas>=2\n", "no header"),
    ],
)
def test_sniff_rejects_with_reason(tmp_path, content, why):
    p = write(tmp_path, "x.csv", content)
    fmt, reason = sniff_table(p)
    assert fmt is None
    assert why in reason


@pytest.mark.parametrize("fmt", ["csv", "keras-csv", "lightning-csv", "ultralytics-csv"])
@pytest.mark.parametrize(
    "content,why",
    [
        (b"", "empty file (0 bytes)"),
        (b"   \n\n", "empty file"),
        (b"epoch,loss\n", "no data rows"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "binary"),
    ],
)
def test_readers_raise_readerror_naming_file(tmp_path, fmt, content, why):
    p = write(tmp_path, "bad.csv", content)
    with pytest.raises(ReadError) as e:
        reader_for(fmt).read("run", [p], tmp_path)
    assert e.value.path == str(p)
    assert why in e.value.reason


def test_binary_garbage_without_nul_bytes_is_not_a_table(tmp_path):
    rng = np.random.default_rng(1)
    p = write(tmp_path, "garbage.csv", bytes(rng.integers(128, 256, 8192, dtype=np.uint8)))
    assert sniff_table(p)[0] is None


def test_all_text_metric_column_names_the_column(tmp_path):
    p = write(tmp_path, "log.csv", "epoch,loss\n" + "".join(f"{i},abc\n" for i in range(40)))
    with pytest.raises(ReadError) as e:
        reader_for("keras-csv").read("run", [p], tmp_path)
    assert "column 'loss' holds text ('abc') in 40 of 40 rows" in e.value.reason


def test_data_set_csv_is_not_a_log(tmp_path):
    p = write(
        tmp_path, "iris.csv", "sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n"
    )
    fmt, reason = sniff_table(p)
    assert fmt is None and "data set" in reason


def test_one_bad_file_of_several_is_skipped(tmp_path):
    good = write(tmp_path, "a.csv", "epoch,loss\n0,1.0\n1,0.5\n")
    bad = write(tmp_path, "b.csv", b"")
    res = reader_for("keras-csv").read("run", [good, bad], tmp_path)
    assert res.files == [str(good)]
    assert res.skipped == [(str(bad), "empty file (0 bytes)")]


def test_file_in_subfolder_gets_prefix(tmp_path):
    p = write(tmp_path, "validation/log.csv", "epoch,loss\n0,1.0\n")
    res = reader_for("keras-csv").read("run", [p], tmp_path)
    assert res.frame["tag"].tolist() == ["validation/loss"]


def test_sniff_reads_only_the_start_of_a_big_file(tmp_path):
    p = tmp_path / "big.csv"
    with open(p, "w") as fh:
        fh.write("step,loss\n")
        fh.write("".join(f"{i},{1.0 / (i + 1):.6f}\n" for i in range(20000)))
        fh.write("this,is,garbage,after,64k\n")
    assert sniff_table(p) == ("csv", "")


def test_million_row_csv_reads_quickly(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(0)
    p = tmp_path / "big.csv"
    loss = rng.random(n).tolist()
    p.write_text("step,loss,lr\n" + "".join(f"{i},{v:.5f},0.001\n" for i, v in enumerate(loss)))
    t0 = time.perf_counter()
    res = read(p)
    elapsed = time.perf_counter() - t0
    assert len(res.frame) == 2 * n
    assert series(res, "lr")[0][-1] == n - 1
    print(f"1M-row CSV (2 tags) read in {elapsed:.2f} s")


def test_read_table_keeps_nan_tokens_only_where_logged(tmp_path):
    p = write(tmp_path, "t.csv", "step,a,b\n0,NaN,\n1,1.5,NA\n2,-nan,null\n")
    t = read_table(p)
    assert t.columns["a"].present.tolist() == [True, True, True]
    assert t.columns["b"].present.tolist() == [False, False, False]


def test_single_column_blank_lines_and_excel_sep_hint(tmp_path):
    p = write(tmp_path, "loss.csv", "loss\n0.5\n0.4\n\n0.3\n\n")
    res = read(p)
    assert series(res, "loss") == ([0, 1, 2], [0.5, 0.4, 0.3])
    assert not any("wrong number" in n for n in res.notes)  # blank lines are not bad lines
    p = write(tmp_path, "excel.csv", "sep=;\nepoch;loss\n0;1\n1;0.5\n")
    assert sniff_table(p) == ("keras-csv", "")
    assert series(read(p), "loss") == ([0, 1], [1.0, 0.5])


def test_ragged_line_is_skipped_and_counted(tmp_path):
    p = write(tmp_path, "r.csv", "step,loss\n0,1\n1,0.5,9,9\n2,0.3\n")
    res = read(p)
    assert series(res, "loss") == ([0, 2], [1.0, 0.3])
    assert any("1 line(s) with a wrong number of cells" in n for n in res.notes)


def test_keras_stdout_log_is_not_a_table_but_a_text_log(tmp_path):
    p = write(
        tmp_path,
        "train.log",
        "Epoch 1/3\n100/100 [==============================] - 2s 15ms/step - loss: 0.6931 - accuracy: 0.5\n"
        "Epoch 2/3\n100/100 [==============================] - 1s 10ms/step - loss: 0.5 - accuracy: 0.7\n",
    )
    # not a table: the console reader (analyzer.readers.console) reads it
    assert sniff_table(p) == ("text", "")


def test_phase_column_splits_rows_into_curves(tmp_path):
    p = write(
        tmp_path,
        "log.csv",
        "epoch,phase,loss,acc\n0,train,1.0,0.5\n0,val,1.1,0.4\n1,train,0.8,0.6\n1,val,0.9,0.55\n"
        "2,train,0.6,0.7\n2,val,0.85,0.6\n",
    )
    res = read(p)
    assert set(res.frame["tag"]) == {"train/loss", "train/acc", "val/loss", "val/acc"}
    assert series(res, "val/loss") == ([0, 1, 2], [1.1, 0.9, 0.85])
    assert series(res, "train/acc") == ([0, 1, 2], [0.5, 0.6, 0.7])


def test_long_format_metric_value_columns(tmp_path):
    p = write(
        tmp_path, "log.csv", "step,metric,value\n0,loss,1.0\n0,acc,0.1\n10,loss,0.5\n10,acc,0.3\n"
    )
    res = read(p)
    assert series(res, "loss") == ([0, 10], [1.0, 0.5])
    assert series(res, "acc") == ([0, 10], [0.1, 0.3])
    assert set(res.frame["tag"]) == {"loss", "acc"}


def test_epoch_beyond_int64_is_dropped_with_a_note(tmp_path):
    # once cast to -9223372036854775808: a wrong "fractions" note and a fake restart that
    # dropped every earlier row
    p = tmp_path / "history.csv"
    p.write_text(
        "epoch,loss\n" + "".join(f"{i},{1 / (i + 1)}\n" for i in range(20)) + "1e19,0.01\n"
    )
    res = read(p)
    steps, _ = series(res, "loss")
    assert steps == list(range(20))
    notes = " | ".join(res.notes)
    assert (
        "does not fit a 64-bit step" in notes
        and "fractions" not in notes
        and "restart" not in notes
    )


GOOD = "epoch,loss,val_loss\n" + "".join(f"{i},{1 / (i + 1)},{1.1 / (i + 1)}\n" for i in range(20))


@pytest.mark.parametrize(
    "name, data, note",
    [
        # what a crash while writing leaves: the rows before it are good
        ("nul-tail", GOOD.encode() + b"\x00" * 4096, "NUL byte(s) at the end"),
        # an unbalanced quote once swallowed the rest of the file into one cell
        ("quote", (GOOD + '20,"0.05,0.06\n21,0.04,0.05\n').encode(), "holds text"),
    ],
)
def test_damaged_csv_keeps_its_good_rows(tmp_path, name, data, note):
    p = tmp_path / name / "history.csv"
    p.parent.mkdir()
    p.write_bytes(data)
    res = read(p)
    steps, values = series(res, "loss")
    assert steps[:20] == list(range(20)) and values[19] == pytest.approx(1 / 20)
    assert note in " | ".join(res.notes)


def test_very_wide_tables_and_very_long_names_are_read(tmp_path):
    # 10,000 columns, or a 100 KB column name: the first line alone filled the sniffing window
    wide = tmp_path / "wide.csv"
    head = ",".join(["epoch", "loss"] + [f"m{i}" for i in range(10000)])
    rows = "".join(",".join([str(i), str(1 / (i + 1))] + ["0.5"] * 10000) + "\n" for i in range(20))
    wide.write_text(head + "\n" + rows)
    long = tmp_path / "long.csv"
    long.write_text(
        "epoch,loss," + "x" * 100_000 + "\n" + "".join(f"{i},{1 / (i + 1)},1\n" for i in range(20))
    )
    for p in (wide, long):
        steps, _ = series(read(p), "loss")
        assert steps == list(range(20))


def test_ragged_rows_keep_the_good_rows_and_are_noted(tmp_path):
    lines = GOOD.splitlines()
    lines[6] += ",9,9"  # too many cells
    lines[9] = "8,0.11"  # too few
    lines.insert(12, "garbage line without commas")
    p = tmp_path / "history.csv"
    p.write_text("\n".join(lines) + "\n")
    res = read(p)
    steps, _ = series(res, "loss")
    assert steps == [s for s in range(20) if s != 5]
    assert "wrong number of cells" in " | ".join(res.notes)


def test_a_file_of_nul_bytes_only_says_so(tmp_path):
    p = tmp_path / "history.csv"
    p.write_bytes(b"\x00" * 4096)
    assert sniff_table(p) == (None, "only NUL bytes (a crash while writing?)")
    with pytest.raises(ReadError, match="only NUL bytes"):
        reader_for("keras-csv").read("run", [p], tmp_path)
