"""Streaming, parallel and cached checking (``check --jobs``, the result cache).

Functional checks only (no timings): ``-j 2`` prints what ``-j 1`` prints, a cached run is
neither read nor analysed (a spy on the reader, a marked cache row), what invalidates a row,
the log folder is never written, and the stream does not keep the runs it has reported.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sqlite3
import sys
import weakref
from pathlib import Path

import pytest

import analyzer.engine as engine
import analyzer.runs as runs_module
from analyzer.cache import DB_NAME, ResultCache, decode_result, encode_result
from analyzer.cli import main
from analyzer.engine import Options, analyze, check_stream, collect, open_cache
from analyzer.runs import load

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"

# one run or two of every format (TensorBoard, Keras CSV, HF trainer state, Lightning, JSON
# lines, MLflow, generic CSV), from the three generated sets
PICK = [
    ("training", "healthy-digits-cnn-s0"),
    ("training", "dead-relu-wine-bias-neg-s1"),
    ("training", "diverge-digits-cnn-lr-ramp-s8"),
    ("training", "diverge-moons-adam-lr-ramp-s5"),
    ("training", "diverge-reg-gd-growth-s3"),
    ("training", "dead-relu-digits-bias-neg-s0"),
    ("gen2", "cnn-digits-mom0.99-bs4-s71"),
    ("gen2", "bert-majority3-s20"),
    ("gen3", "cnn-digits-adam-s1"),
    ("gen3", "cnn-digits-tiny-s102"),
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep") / "logs"
    for s, name in PICK:
        shutil.copytree(FIX / s / name, root / f"{s}-{name}")
    (root / "notes.bin").write_bytes(b"\0\1")  # a skipped entry
    return root


def _listing(root: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    )


def _json(capsys, *argv: str) -> str:
    main(["check", *argv, "--format", "json", "--exit-zero"])
    return capsys.readouterr().out


@pytest.fixture
def reads(monkeypatch):
    """Counts the runs read (in this process: use jobs=1)."""
    seen: list[str] = []
    real = runs_module.read_source  # every run is read through it (runs.read_run)

    def spy(src, root=None):
        seen.append(src.run)
        return real(src, root)

    monkeypatch.setattr(runs_module, "read_source", spy)
    return seen


def test_two_jobs_print_what_one_job_prints(sweep, capsys):
    for paths in ([str(sweep)], [str(sweep), str(FIX / "text")]):
        one = _json(capsys, *paths, "-j", "1", "--no-cache")
        two = _json(capsys, *paths, "-j", "2", "--no-cache")
        assert one == two  # byte for byte
        doc = json.loads(one)
        assert len(doc["runs"]) >= len(PICK) and doc["skipped"]


def test_stream_reports_what_load_then_analyze_reports(sweep):
    options = Options.build()
    before = analyze(load([sweep, FIX / "text"]), options).to_dict()
    for jobs in (1, 2):
        report, _ = collect(check_stream([sweep, FIX / "text"], options, jobs=jobs))
        assert report.to_dict() == before  # same runs, same order, same skipped entries


def test_a_cached_run_is_not_read_again(sweep, tmp_path, reads):
    options = Options.build()
    cache = open_cache(tmp_path / "c", options, [sweep])
    first, _ = collect(check_stream(sweep, options, cache=cache))
    cache.close()
    n = len(reads)
    assert n >= len(PICK)
    cache = open_cache(tmp_path / "c", options, [sweep])
    second, _ = collect(check_stream(sweep, options, cache=cache))
    cache.close()
    assert len(reads) == n  # nothing read the second time
    assert cache.hits >= n
    assert second.to_json() == first.to_json()


def test_the_cached_row_is_what_is_reported(sweep, tmp_path, capsys):
    cache_dir = tmp_path / "c"
    _json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir))
    # mark every stored report: the next check must print the mark, having read nothing
    db = sqlite3.connect(cache_dir / DB_NAME)
    rows = db.execute("SELECT key, data FROM results").fetchall()
    marked = 0
    for key, data in rows:
        if data[:1] == b"[":  # a table sniff, not a run
            continue
        report, skipped, _ = decode_result(data)
        if report is not None:
            report.notes = ["MARKED"]
            # without the stored JSON text: the report is written from the (marked) report
            db.execute(
                "UPDATE results SET data = ? WHERE key = ?",
                (encode_result(report, skipped), key),
            )
            marked += 1
    db.commit()
    db.close()
    out = json.loads(_json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir)))
    assert marked == len(out["runs"])
    assert all(r["notes"] == ["MARKED"] for r in out["runs"])
    fresh = json.loads(_json(capsys, str(sweep), "-j", "1", "--no-cache"))
    assert not any(r["notes"] == ["MARKED"] for r in fresh["runs"])


def _copy(sweep: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "logs"
    shutil.copytree(sweep, dest)
    return dest


def test_a_changed_file_invalidates_its_run_only(sweep, tmp_path, reads):
    logs = _copy(sweep, tmp_path)
    options = Options.build()
    cache = ResultCache(tmp_path / "c", engine.cache_fingerprint(options))
    collect(check_stream(logs, options, cache=cache))
    cache.flush()
    n = len(reads)
    target = next(logs.rglob("metrics.jsonl"))
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))  # touched
    report, _ = collect(check_stream(logs, options, cache=cache))
    assert len(reads) == n + 1
    text = target.read_text()
    target.write_text(text + text.splitlines()[-1] + "\n")  # appended to
    collect(check_stream(logs, options, cache=cache))
    assert len(reads) == n + 2
    # a new side file (hyper-parameters) beside a table invalidates that table's run
    table = next(logs.rglob("history.csv"))
    (table.parent / "hparams.yaml").write_text("lr: 0.1\n")
    collect(check_stream(logs, options, cache=cache))
    assert reads[-1].endswith("history.csv") and len(reads) == n + 3
    cache.close()


def test_a_file_in_doubt_is_compared_by_content(sweep, tmp_path, reads):
    logs = _copy(sweep, tmp_path)
    target = next(logs.rglob("metrics.jsonl"))
    os.utime(target)  # modified just now: its size and mtime are in doubt
    options = Options.build()
    cache = ResultCache(tmp_path / "c", engine.cache_fingerprint(options))
    collect(check_stream(logs, options, cache=cache))
    n = len(reads)
    collect(check_stream(logs, options, cache=cache))
    assert len(reads) == n  # same content: a hit
    st = target.stat()
    data = bytearray(target.read_bytes())
    i = data.rindex(b"1")
    data[i : i + 1] = b"2"  # same size, and the mtime put back: only the content tells
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    collect(check_stream(logs, options, cache=cache))
    assert len(reads) == n + 1
    cache.close()


def test_other_rule_options_or_roles_do_not_use_the_rows(sweep, tmp_path, reads):
    base = Options.build()
    cache = open_cache(tmp_path / "c", base, [sweep])
    collect(check_stream(sweep, base, cache=cache))
    cache.close()
    n = n_runs = len(reads)
    for options in (
        Options.build(rule_options={"OVF001": {"min_rise": 5.0}}),
        Options.build(ignore=["OSC"]),
        Options.build(train_loss="loss"),
    ):
        cache = open_cache(tmp_path / "c", options, [sweep])
        collect(check_stream(sweep, options, cache=cache))
        cache.close()
        assert len(reads) - n == n_runs  # every run read again
        n = len(reads)


def test_no_cache_neither_uses_nor_writes_it(sweep, tmp_path, capsys, monkeypatch, reads):
    cache_dir = tmp_path / "c"
    monkeypatch.setenv("CURVELINT_CACHE_DIR", str(cache_dir))
    _json(capsys, str(sweep), "-j", "1")
    n = len(reads)
    db = cache_dir / DB_NAME
    before = sqlite3.connect(db).execute("SELECT count(*), max(created) FROM results").fetchone()
    _json(capsys, str(sweep), "-j", "1", "--no-cache")
    assert len(reads) == 2 * n
    after = sqlite3.connect(db).execute("SELECT count(*), max(created) FROM results").fetchone()
    assert after == before


def test_a_corrupt_cache_is_ignored_and_rewritten(sweep, tmp_path, capsys, reads):
    cache_dir = tmp_path / "c"
    want = _json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir))
    n = len(reads)
    # a corrupt row: read again and rewritten
    db = sqlite3.connect(cache_dir / DB_NAME)
    db.execute("UPDATE results SET data = x'00ff00'")
    db.commit()
    db.close()
    assert _json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir)) == want
    assert len(reads) == 2 * n
    assert _json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir)) == want
    assert len(reads) == 2 * n  # rewritten: hits again
    # a file that is not a database at all
    for f in cache_dir.iterdir():
        f.unlink()
    (cache_dir / DB_NAME).write_bytes(b"not a database" * 100)
    assert _json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir)) == want
    assert _json(capsys, str(sweep), "-j", "1", "--cache-dir", str(cache_dir)) == want
    assert len(reads) == 3 * n


def test_the_log_folder_is_never_written(sweep, tmp_path, capsys, monkeypatch):
    logs = _copy(sweep, tmp_path)
    before = _listing(logs)
    monkeypatch.chdir(tmp_path)
    for argv in (["-j", "1"], ["-j", "2"], ["-j", "2"], ["--format", "text"]):
        main(["check", str(logs), "--exit-zero", *argv])
    capsys.readouterr()
    assert _listing(logs) == before
    # a cache folder inside the logs is refused (a warning; the check still runs)
    code = main(["check", str(logs), "--exit-zero", "--cache-dir", str(logs / "cache")])
    assert code == 0
    assert "inside the log folder" in capsys.readouterr().err
    assert _listing(logs) == before


def test_the_stream_does_not_keep_the_runs(sweep, monkeypatch):
    alive: list[weakref.ref] = []
    real = runs_module.read_source  # every run is read through it (runs.read_run)

    def tracking(src, root=None):
        run, skipped = real(src, root)
        if run is not None:
            alive.append(weakref.ref(run))
        return run, skipped

    monkeypatch.setattr(runs_module, "read_source", tracking)
    options = Options.build()
    most = 0
    reports = []
    for item in check_stream(sweep, options, jobs=1):
        if item.report is not None:
            reports.append(item.report)
        gc.collect()
        most = max(most, sum(r() is not None for r in alive))
    assert len(alive) >= len(PICK)
    assert most <= 1  # at most the run being reported
    kept = [i.run for i in check_stream(sweep, options, jobs=1, keep_runs=True) if i.run]
    gc.collect()
    assert len(kept) == len(reports) and sum(r() is not None for r in alive) >= len(kept)


def test_html_still_has_the_charts(sweep, tmp_path):
    """--format html keeps the runs' curves: every run's record carries its chart data (the page
    draws the charts when a run is opened)."""
    out = tmp_path / "r.html"
    assert main(["check", str(sweep), "--format", "html", "-o", str(out), "--exit-zero"]) == 0
    html = out.read_text()
    start = html.index(">", html.index('<script type="application/json" id="run-data">')) + 1
    _head, *runs = json.loads(html[start : html.index("</script>", start)])
    assert runs and all(r.get("charts") and r["charts"][0]["s"] for r in runs)


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        main(["check", str(FIX / "text"), "-j", "0"])
    assert "at least 1" in capsys.readouterr().err


def test_python_api_takes_jobs_and_cache(sweep, tmp_path):
    from analyzer import check

    a = check(sweep).to_json()
    assert check(sweep, jobs=2, cache=tmp_path / "c").to_json() == a
    assert (tmp_path / "c" / DB_NAME).exists()
    assert check(sweep, jobs=None, cache=tmp_path / "c").to_json() == a


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import io

    from analyzer.cli import progress

    assert isinstance(progress.progress_bar(stream=io.StringIO()), progress._Null)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert isinstance(progress.progress_bar(enabled=False, stream=Tty()), progress._Null)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)  # the built-in line
    tty = Tty()
    bar = progress.progress_bar(stream=tty)
    bar.update(3, 10)
    bar.close()
    assert "3/10 runs" in tty.getvalue()


def test_the_tqdm_bar_counts_runs_and_clears_itself(monkeypatch):
    import io

    pytest.importorskip("tqdm")
    from analyzer.cli import progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    bar = progress.progress_bar(stream=tty)
    assert isinstance(bar, progress._Tqdm)
    bar.update(3, 10)
    assert tty.getvalue() == ""  # a check shorter than DELAY draws nothing
    monkeypatch.setattr(bar.bar, "delay", 0.0)  # as if a second had gone by
    monkeypatch.setattr(bar.bar, "mininterval", 0.0)
    bar.update(7, 40)  # the total grows as folders are discovered
    drawn = tty.getvalue()
    assert "7/40" in drawn and drawn.startswith("\r")
    bar.close()
    assert tty.getvalue().endswith("\r")  # the line is blanked (leave=False), nothing scrolls


def test_json_from_run_texts_and_lazy_cached_reports_is_the_same(sweep):
    from analyzer.cache import CachedRunReport, worst_severity
    from analyzer.findings import run_json

    options = Options.build()
    texts: list = []
    report, _ = collect(check_stream(sweep, options, json_text=True), texts=texts)
    assert report.to_json(run_texts=texts) == report.to_json()
    assert report.to_json(run_texts=[None] * len(texts)) == report.to_json()
    for rr, text in zip(report.runs, texts, strict=True):
        assert text == run_json(rr)
        blob = encode_result(rr, [("a", "b")], text)
        lazy, skipped, stored = decode_result(blob, lazy=True)
        assert isinstance(lazy, CachedRunReport) and stored == text and skipped == [("a", "b")]
        assert worst_severity(lazy) == worst_severity(rr)
        assert "_blob" in lazy.__dict__  # not decoded for its worst severity
        assert lazy.findings == rr.findings and lazy.to_dict() == rr.to_dict()


def test_a_cached_report_gives_its_sweep_facts_undecoded(sweep):
    from analyzer.cache import CachedRunReport, stored_facts
    from analyzer.sweep import RunFacts, facts

    report, _ = collect(check_stream(sweep, Options.build()))
    hparams = 0
    for rr in report.runs:
        blob = encode_result(rr, [], None, facts=facts(rr).to_row())
        lazy, _, _ = decode_result(blob, lazy=True)
        assert isinstance(lazy, CachedRunReport)
        row = stored_facts(lazy)
        assert row is not None and RunFacts.from_row(row) == facts(rr)
        assert "_blob" in lazy.__dict__  # the report itself was not decoded
        hparams += bool(rr.hparams)
        # a row written without them (an older row shape) has none: the report answers
        assert stored_facts(decode_result(encode_result(rr, []), lazy=True)[0]) is None
    assert hparams  # the sample has runs with settings (they go through the row too)


def test_a_partly_cached_sweep_keeps_the_discovery_order(sweep, tmp_path, capsys):
    # changed runs used to be reported after the cached ones
    logs = _copy(sweep, tmp_path)
    cache = str(tmp_path / "c")
    first = _json(capsys, str(logs), "-j", "1", "--cache-dir", cache)
    runs = sorted(p for p in logs.iterdir() if p.is_dir())
    for d in (runs[0], runs[len(runs) // 2]):  # the first run and one in the middle change
        f = next(p for p in sorted(d.rglob("*")) if p.is_file())
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    for jobs in ("1", "2"):
        assert _json(capsys, str(logs), "-j", jobs, "--cache-dir", cache) == first


def test_dask_missing_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    rc = main(["check", str(FIX / "text"), "--scheduler", "processes"])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install 'curvelint[dask]'" in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_scheduler_value_is_refused(capsys):
    rc = main(["check", str(FIX / "text"), "--scheduler", "two machines"])
    assert rc == 2 and "tcp://HOST:8786" in capsys.readouterr().err


def test_check_draws_the_bar_on_a_terminal_only_and_not_with_quiet(monkeypatch, capsys):
    import io

    from analyzer.cli import progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the built-in line
    for argv, tty, shown in (([], True, True), (["-q"], True, False), ([], False, False)):
        err = Tty() if tty else io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        main(["check", str(FIX / "text"), "-j", "1", "--no-cache", "--exit-zero", *argv])
        assert ("4/4 runs" in err.getvalue()) is shown, (argv, tty)
    capsys.readouterr()


def test_a_sweep_folder_is_told_from_a_run_folder(tmp_path):
    from analyzer.engine import _SWEEP_ENTRIES, _looks_like_a_sweep

    run = tmp_path / "run"
    (run / "train").mkdir(parents=True)
    (run / "validation").mkdir()
    assert not _looks_like_a_sweep([run])
    sweep = tmp_path / "sweep"
    for i in range(_SWEEP_ENTRIES):
        (sweep / f"lr-{i}").mkdir(parents=True)
    assert _looks_like_a_sweep([sweep])
    assert _looks_like_a_sweep([run, sweep])
    assert not _looks_like_a_sweep([tmp_path / "missing", run / "train"])


def test_cache_knows_when_it_is_empty(tmp_path):
    from analyzer.cache import ResultCache

    c = ResultCache(tmp_path / "cache", "fp")
    assert c.empty()
    c.put("k", [], {}, b"x")
    c.flush()
    assert not c.empty()
    c.close()


def test_cache_answers_many_keys_at_once_as_one_at_a_time(tmp_path):
    import analyzer.cache as cache_mod
    from analyzer.cache import ResultCache, stamp

    files = []
    for i in range(3):
        f = tmp_path / f"f{i}.csv"
        f.write_text(f"step,loss\n0,{i}\n")
        os.utime(f, ns=(10**18, 10**18 - i))  # long ago: not in doubt
        files.append(str(f))
    c = ResultCache(tmp_path / "cache", "fp")
    n = cache_mod._SELECT_MANY * 2 + 7  # more keys than one query takes
    wanted = []
    for i in range(n):
        st, doubt = stamp([files[i % 3]])
        wanted.append((f"k{i}", st, doubt))
        if i % 4:  # every fourth key was never stored
            c.put(f"k{i}", st if i % 5 else [[files[0], 1, 2, 3]], {}, b"row%d" % i)
    c.flush()
    one = [c.get(*w) for w in wanted]
    many = c.get_many(wanted)
    assert many == one
    # hits where a row with the same stamp exists, in order; misses elsewhere
    assert many[1] == b"row1" and many[0] is None and many[5] is None  # 5: stored, other stamp
    assert sum(b is not None for b in many) == sum(1 for i in range(n) if i % 4 and i % 5)
    c.close()


def test_cache_rows_fetched_in_parts_keep_order_and_answers(sweep, tmp_path, capsys, monkeypatch):
    logs = _copy(sweep, tmp_path)
    cache = str(tmp_path / "c")
    first = _json(capsys, str(logs), "-j", "1", "--cache-dir", cache)
    runs = sorted(p for p in logs.iterdir() if p.is_dir())
    f = next(p for p in sorted(runs[4].rglob("*")) if p.is_file())  # a change in the 2nd part
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    monkeypatch.setattr(engine, "_ROWS_AT_ONCE", 3)  # parts of 3 runs: boundaries everywhere
    for jobs in ("1", "2"):
        assert _json(capsys, str(logs), "-j", jobs, "--cache-dir", cache) == first


@pytest.fixture
def walks(monkeypatch):
    """Counts the folders walked by discovery (the engine's calls of ``discover``)."""
    seen: list[str] = []
    real = engine.discover

    def spy(p, **kw):
        seen.append(str(p))
        return real(p, **kw)

    monkeypatch.setattr(engine, "discover", spy)
    return seen


def _stream_json(logs: Path, cache) -> str:
    options = Options.build()
    report, _ = collect(check_stream(logs, options, cache=cache))
    cache.flush()
    return report.to_json()


def _run_ids(text: str) -> list[str]:
    return [r["run"] for r in json.loads(text)["runs"]]


def test_an_unchanged_tree_reuses_its_discovery(sweep, tmp_path, monkeypatch, walks):
    import analyzer.cache as cache_mod

    monkeypatch.setattr(cache_mod, "RACY_NS", 0)  # the copy is seconds old
    logs = _copy(sweep, tmp_path)
    cache = ResultCache(tmp_path / "c", engine.cache_fingerprint(Options.build()))
    first = _stream_json(logs, cache)
    assert len(walks) == 1
    again = _stream_json(logs, cache)
    assert len(walks) == 1 and again == first  # answered without walking, the same report
    # what the engine uses of a stored discovery is what a walk gives
    disc, sides = engine._discover_local(logs, None, None, cache)
    fresh = engine.discover(logs)
    assert len(walks) == 2  # the spy's own call above
    assert [(r.run, r.format, r.base, r.files, r.notes) for r in disc.runs] == [
        (r.run, r.format, r.base, r.files, r.notes) for r in fresh.runs
    ]
    assert disc.skipped == fresh.skipped and disc.root == fresh.root
    assert sides == engine._side_files(fresh.folders)
    # a table rewritten in place leaves its folder's listing as it was: its stamp tells
    extra = logs / "extra.csv"
    extra.write_text("not a table\n")
    assert "extra.csv" not in _run_ids(_stream_json(logs, cache))
    assert len(walks) == 3
    st = extra.stat()
    extra.write_text("epoch,loss\n" + "".join(f"{i},{1 / (i + 1)}\n" for i in range(30)))
    os.utime(extra, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with its old mtime
    text = _stream_json(logs, cache)
    assert len(walks) == 4 and "extra.csv" in _run_ids(text)
    # a new run folder
    shutil.copytree(logs / "gen3-cnn-digits-adam-s1", logs / "zz-new-run")
    assert "zz-new-run" in _run_ids(_stream_json(logs, cache)) and len(walks) == 5
    assert "zz-new-run" in _run_ids(_stream_json(logs, cache)) and len(walks) == 5
    cache.close()


def test_a_discovery_is_walked_again_when_it_cannot_be_trusted(sweep, tmp_path, monkeypatch, walks):
    import analyzer.cache as cache_mod

    logs = _copy(sweep, tmp_path)
    cache = ResultCache(tmp_path / "c", engine.cache_fingerprint(Options.build()))
    # a tree changed in the last seconds: a later change could keep its stamps
    first = _stream_json(logs, cache)
    assert _stream_json(logs, cache) == first and len(walks) == 2
    monkeypatch.setattr(cache_mod, "RACY_NS", 0)
    # a walk that met an entry it could not look at (a broken link may come to point somewhere)
    os.symlink(tmp_path / "nowhere", logs / "dangling")
    _stream_json(logs, cache)
    _stream_json(logs, cache)
    assert len(walks) == 4
    os.unlink(logs / "dangling")
    _stream_json(logs, cache)
    assert _stream_json(logs, cache) == first and len(walks) == 5
    # a corrupt stored discovery is walked again and stored anew
    key = cache.key("discovery\0" + os.path.abspath(logs) + "\0" + os.fspath(logs))
    cache.put(key, [], {}, b"garbage")
    cache.flush()
    assert _stream_json(logs, cache) == first and len(walks) == 6
    assert _stream_json(logs, cache) == first and len(walks) == 6
    cache.close()
