"""The readers' fast paths give exactly what their general paths give (issue 12: reading cost
per run): MLflow metric files, JSON-lines columns, YAML side files, the run's table built once
from numpy columns, and the tag index of a run. Seeded, so a failure is reproducible."""

import importlib.util
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer.discover import discover
from analyzer.readers import hparams, jsonl, mlflow
from analyzer.readers.base import NumpyTable, Points, apply_restarts, make_frame
from analyzer.readers.table import read_table
from analyzer.runs import read_run

ROOT = Path(__file__).resolve().parents[1]


def _same_arrays(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# --- MLflow metric files -------------------------------------------------------------------------
_VALUES = ["0", "-0", "1", "-1", "0.5", "-0.0", "1e5", "1E-5", ".5", "5.", "nan", "-nan", "NaN"]
_VALUES += ["-NaN", "inf", "-inf", "+3", "+0.5", "00.5", "123456789012345678", "3.4e400"]
_VALUES += ["1.2345678901234567891", "1e-400", "1e0005", "abc", "+nan", "Infinity", "1,5"]
_INTS = ["0", "-0", "1", "17", "1700000000000", "-5", "123456789012345678", "007", "1.5", "x"]


def test_mlflow_plain_metric_lines_read_as_the_general_parse_reads_them(tmp_path):
    rng = random.Random(12)
    fast = 0
    for _ in range(1500):
        lines = []
        for _ in range(rng.randint(1, 6)):
            value = rng.choice(_VALUES) if rng.random() < 0.5 else repr(rng.uniform(-9, 9))
            lines.append(f"{rng.choice(_INTS)} {value} {rng.choice(_INTS)}")
        text = "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
        plain = mlflow._parse_plain(text)
        if plain is None:
            continue
        fast += 1
        general = mlflow._parse_any(text, tmp_path / "m")
        for a, b in zip(plain, general, strict=True):
            assert _same_arrays(a, b) if isinstance(a, np.ndarray) else a == b, text
    assert fast > 150  # the plain path was exercised, not only the fallback


@pytest.mark.parametrize(
    "text",
    [
        "1 0.5 0\n2 0.4 1\n",  # plain
        "1 0.5\n2 0.4\n",  # old MLflow: no step
        "1 0.5 0\r\n2 0.4 1\r\n",  # Windows line ends
        "1  0.5 0\n",  # two spaces
        "1 0.5 0 7\n2 0.4 1\n",  # a line with a fourth field
        '1 "0.5" 0\n',  # quotes
        "1 -0 0\n",  # negative zero
        "",
    ],
)
def test_mlflow_metric_files_of_any_shape_read_the_same_either_way(tmp_path, text):
    p = tmp_path / "m"
    p.write_text(text)
    try:
        got = mlflow._read_metric(p)
    except Exception as e:  # noqa: BLE001 - the general parse must fail the same way
        with pytest.raises(type(e)):
            mlflow._parse_any(text, p)
        return
    for a, b in zip(got, mlflow._parse_any(text, p), strict=True):
        assert _same_arrays(a, b) if isinstance(a, np.ndarray) else a == b


# --- JSON-lines columns --------------------------------------------------------------------------
def test_json_plain_columns_equal_the_pandas_columns(monkeypatch):
    rng = random.Random(7)
    values = [1, 2.5, -3, None, jsonl._NAN_MARK, math.inf, -math.inf, 0, 10**18, 2**63 - 1]
    values += [-(2**63), 2**63, 10**400, 1e308, -0.0, math.nan, 0.1, 1e19, True, "0.5", [1]]
    values += ["nan", "-nan", "inf", " -1e3 ", "abc", "1_0", "", "NaN", "1e999", "-0"]
    plain = jsonl._plain_columns

    def table(records):
        try:
            t, skipped = jsonl.table_from_records(Path("x"), records, nested=False)
        except Exception as e:  # noqa: BLE001 - both paths must fail alike
            return type(e).__name__
        cols = {k: (c.values.tobytes(), c.present.tobytes()) for k, c in t.columns.items()}
        return t.n_rows, t.header, list(t.columns), cols, skipped

    fast = 0
    for _ in range(1500):
        keys = [f"k{j}" for j in range(rng.randint(1, 4))]
        records = [
            {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, len(keys)))}
            for _ in range(rng.randint(1, 7))
        ]
        fast += any(records) and plain(records) is not None
        got = table(records)
        monkeypatch.setattr(jsonl, "_plain_columns", lambda records: None)
        want = table(records)
        monkeypatch.setattr(jsonl, "_plain_columns", plain)
        assert got == want, records
    assert fast > 300


# --- YAML side files ----------------------------------------------------------------------------
def _hostile():
    spec = importlib.util.spec_from_file_location("hostile", ROOT / "benchmarks" / "hostile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pure_python_yaml(text: str):
    import yaml

    try:
        data = yaml.load(text, Loader=hparams._loader())
    except yaml.YAMLError:
        return "invalid"
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    return data if isinstance(data, dict) else {}


def _parsed(text: str):
    try:
        return hparams.parse_yaml(text)
    except hparams.YamlError:
        return "invalid"
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


def test_yaml_side_files_parse_as_pure_python_pyyaml_parses_them():
    mutate = _hostile().mutate
    rng = random.Random(3)
    files = sorted((ROOT / "fixtures").rglob("*.yaml"))[::6]
    assert files
    for f in files:
        raw = f.read_bytes()
        for data in [raw] + [mutate(raw, rng)[0] for _ in range(8 if raw else 0)]:
            text = data.decode("utf-8", errors="replace")
            assert _parsed(text) == _pure_python_yaml(text), (f, text[:300])


@pytest.mark.parametrize(
    "text",
    [
        "lr: 1e-3\nname: 'x'\nn: 3\nflag: true\n",
        "a:\tb\n",  # a tab: libyaml accepts it, PyYAML does not
        "a: [" * 450 + "]" * 450,  # nesting PyYAML cannot compose
        "k: !!python/tuple [1, 2]\n",
    ],
)
def test_yaml_edge_texts_parse_as_pure_python_pyyaml_parses_them(text):
    assert _parsed(text) == _pure_python_yaml(text)


# --- the run's table, built once -----------------------------------------------------------------
MANY_TAGS = [f"t{j:02d}" for j in range(15)] + ["val/loss", "loss", "Loss", "a b"]


@pytest.mark.parametrize(
    "seed, tags_pool, max_rows, rounds, lite",
    [
        (5, ["b", "a", "c/x", "loss"], 25, 300, False),
        # as a NumpyTable (a check's table), with many tags
        (8, MANY_TAGS, 40, 200, True),
    ],
)
def test_points_frame_equals_apply_restarts_of_the_concatenated_rows(
    seed, tags_pool, max_rows, rounds, lite
):
    rng = np.random.default_rng(seed)
    for i in range(rounds):
        points, parts = Points(), []
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(0, max_rows))
            tags = rng.choice(tags_pool, n)
            # steps that go back (restarts) inside a part (i % 4 == 1, 3), from one part to
            # the next (i % 4 == 2), or never (i % 4 == 0)
            later = 100 * len(parts) * (-1 if i % 4 == 2 else 1)
            steps = np.cumsum(rng.integers(-3 if i % 2 else 0, 4, n)) + later
            values = rng.normal(size=n)
            walls = np.where(rng.random(n) < 0.3, np.nan, rng.random(n))
            part = Points()
            for t in dict.fromkeys(tags.tolist()):
                m = tags == t
                part.add(t, steps[m], values[m], walls[m])
            points.extend(part)
            parts.append(make_frame("r", *part.columns()))
        got, got_notes = points.frame("r", lite=lite)
        frames = [f for f in parts if len(f)]
        if not frames:
            assert got.empty
            continue
        if lite:
            assert isinstance(got, NumpyTable)
            got = got.to_frame()
        want, want_notes = apply_restarts(pd.concat(frames, ignore_index=True), "r")
        pd.testing.assert_frame_equal(got, want)
        assert got_notes == want_notes


def test_a_table_with_logged_nans_keeps_them_as_points(tmp_path):
    p = tmp_path / "history.csv"
    p.write_text("epoch,loss,val_loss\n0,1.5,nan\n1, NaN ,\n2,-nan,NA\n3,+nan,0.5\n4,2.0,x\n")
    t = read_table(p)
    assert t.columns["loss"].present.tolist() == [True] * 5
    assert np.isnan(t.columns["loss"].values[1:4]).all()
    assert t.columns["val_loss"].present.tolist() == [True, False, False, True, False]


def test_the_tag_index_equals_pandas_groupby_on_the_fixtures():
    disc = discover(ROOT / "fixtures" / "training")
    assert disc.runs
    for src in disc.runs[::3]:
        run, _ = read_run(src, disc.root)
        if run is None:
            continue
        want = run.frame.groupby("tag", sort=True).indices
        got = run._index()
        assert list(got) == list(want)
        for tag, idx in want.items():
            assert _same_arrays(got[tag], idx)


# --- small plain text tables ---------------------------------------------------------------------
def test_plain_table_blocks_read_as_pandas_reads_them(monkeypatch):
    from analyzer.readers import table
    from analyzer.readers.sniff import Layout

    rng = random.Random(4)
    tokens = ["0", "1", "-1", "+5", "007", "0.5", "-0.5", "1.", ".5", "1e5", "1E-05", "-0"]
    tokens += ["-0.0", "", "", "1.5e300", "123456789012345678", "1234567890123456789", "nan"]
    tokens += ["0.1234567890123456789012345678", "NA", "-", "x", " 1", "1 ", "1e-99", "9.99e99"]
    # logged NaNs and infinities, as Python writes them and otherwise
    tokens += ["nan", "-nan", "+nan", "NaN", "NAN", "-NaN", "+NaN", "nAn", "NaN%", "inf", "-inf"]
    tokens += ["+inf", "Inf", "INF", "-Inf", "Infinity", "-Infinity", "+Infinity", "iNf", "INF%"]
    names = ["epoch", "loss", "val_loss", "acc", "lr", "step", "Unnamed: 1", "a b", 'x"y']
    simple = table._parse_simple

    def columns(parsed):
        got_names, cols, n_rows, bad = parsed
        return (
            got_names,
            n_rows,
            bad,
            {
                k: (c.values.tobytes(), c.present.tobytes(), c.text_cells, c.unwrapped)
                for k, c in cols.items()
            },
        )

    fast = nans = 0
    for _ in range(2500):
        sep = rng.choice([",", ";", "\t"])
        header = rng.sample(names, rng.randint(1, 4)) if rng.random() < 0.9 else ["loss"] * 2
        rows = []
        for _ in range(rng.randint(1, 8)):
            cells = [
                rng.choice(tokens) if rng.random() < 0.25 else repr(rng.uniform(-100, 100))
                for _ in header
            ]
            rows.append(sep.join(cells[: len(cells) - (rng.random() < 0.05)]))
        block = sep.join(header) + "\n" + "\n".join(rows) + ("\n" if rng.random() < 0.7 else "")
        layout = Layout(sep, 0, header)
        got = simple(block, layout)
        if got is None:
            continue
        fast += 1
        nans += "a" in block[block.find("\n") :].lower()
        monkeypatch.setattr(table, "_parse_simple", lambda *args: None)
        want = table._parse_block(block, layout, True)
        monkeypatch.setattr(table, "_parse_simple", simple)
        assert columns(got) == columns(want), block
    assert fast > 200
    assert nans > 30  # blocks holding a logged nan were read the fast way too
