"""Seeded fuzzing of the readers and the CLI with damaged files (benchmarks/hostile.py): no
exception escapes, no read hangs, no value comes back that the file does not hold, and every
intact event record before the damage is returned."""

import importlib.util
import random
from pathlib import Path

import pytest

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _hostile():
    spec = importlib.util.spec_from_file_location("hostile", ROOT / "benchmarks" / "hostile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.filterwarnings("error")  # a warning leaking to the user's terminal counts as a crash
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_files_never_crash_hang_or_invent_values(seed):
    res = _hostile().run(cases=60, seed=seed, limit=20.0)
    examples = res.pop("_examples")
    for kind, counts in res.items():
        assert counts["tried"] == 60
        assert counts["crash"] == counts["hang"] == counts["wrong"] == 0, (kind, examples)


def test_check_on_a_folder_of_damaged_files_exits_0_1_or_2(tmp_path, capsys):
    h = _hostile()
    rng = random.Random(7)
    events, _ = h.event_file(60)
    originals = {
        "events.out.tfevents.1.h": events,
        "history.csv": h.csv_file(),
        "trainer_state.json": h.trainer_state(),
    }
    for i in range(12):
        for name, data in originals.items():
            d = tmp_path / f"run{i}-{name.split('.')[0]}"
            d.mkdir()
            (d / name).write_bytes(h.mutate(data, rng)[0])
    for fmt in ("text", "json"):
        assert main(["check", str(tmp_path), "--format", fmt]) in (0, 1, 2)
    capsys.readouterr()


def test_a_missing_dependency_of_a_reader_is_named_with_what_to_install(tmp_path, monkeypatch):
    # a broken install (google-crc32c removed): the run is skipped with the package to install,
    # not an "internal error", and the other formats are still read
    import analyzer.readers as readers
    from analyzer.runs import load

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n2,0.3\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "events.out.tfevents.1.host").write_bytes(b"")
    real = readers.reader_for

    class Broken:
        def read(self, *a, **k):
            raise ModuleNotFoundError("No module named 'google_crc32c'", name="google_crc32c")

    def reader_for(fmt):
        return Broken() if fmt == "tensorboard" else real(fmt)

    monkeypatch.setattr(readers, "reader_for", reader_for)
    res = load([tmp_path])
    assert [r.id for r in res.runs] == ["a"]
    (note,) = [s.reason for s in res.skipped if "b" in s.path]
    assert "'google-crc32c' is not installed (pip install google-crc32c)" in note


@pytest.mark.parametrize(
    ("first", "gap"), [(1e30, 1e30), (2.0**62, 1000.0), (1e19, 1.0)], ids=["1e30", "2^62", "1e19"]
)
def test_steps_too_large_for_a_step_are_named_as_such(tmp_path, first, gap):
    # the run is read on its row numbers, and the note says why: not "mostly empty" or "not
    # whole numbers", which would send the user looking for a problem the file does not have
    from analyzer.runs import load

    rows = "".join(f"{first + i * gap:.17g},{1 / (i + 1)},{1.1 / (i + 1)}\n" for i in range(20))
    (tmp_path / "log.csv").write_text("step,loss,val_loss\n" + rows)
    (run,) = load(tmp_path).runs
    assert any("'step' holds values too large for a step" in n for n in run.notes), run.notes
    assert len(run.curve_set().train) == 20
