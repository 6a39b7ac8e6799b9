"""Remote log folders through fsspec (``check memory://...``), fast: fsspec's in-memory file
system stands for the remote. The same checks against a real S3 API (moto's server) are in
``tests/test_remote_s3.py`` (slow).

What is checked: the report of a remote copy of a log folder is the local folder's, byte for
byte (run ids relative to the URL as they are to a local folder, the same skipped entries); the
mirror's path never shows; the remote is never written; an unchanged remote file is not
downloaded again, a changed one is, a removed one is gone; clear errors (exit 2) for a missing
folder, an unknown protocol, a protocol whose package is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

fsspec = pytest.importorskip("fsspec")

from analyzer import check  # noqa: E402
from analyzer.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
#: small runs of several formats: TensorBoard (two layouts), Keras, Lightning, MLflow
PICK = [
    ("tensorboard", "keras"),
    ("tensorboard", "pytorch"),
    ("text", "keras"),
    ("text", "lightning_logs"),
    ("text", "mlruns"),
]


@pytest.fixture
def logs(tmp_path) -> Path:
    root = tmp_path / "logs"
    for s, name in PICK:
        shutil.copytree(FIX / s / name, root / f"{s}-{name}")
    (root / "notes.bin").write_bytes(b"\0\1")  # a skipped entry
    run = next((root / "text-mlruns").glob("*/*/metrics")).parent
    (run / "artifacts").mkdir()
    (run / "artifacts" / "model.pkl").write_bytes(b"\0" * 2048)  # never read, never fetched
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.csv").write_text("step,loss\n1,2\n")
    return root


@pytest.fixture
def memfs():
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    yield fs
    fs.store.clear()


def upload(fs, local: Path, url_path: str) -> None:
    for p in sorted(local.rglob("*")):
        if p.is_file():
            fs.pipe(f"{url_path}/{p.relative_to(local).as_posix()}", p.read_bytes())


def _snapshot(fs) -> dict[str, bytes]:
    return {k: fs.cat_file(k) for k in fs.find("/", withdirs=False)}


def _json(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["check", *argv, "--format", "json", "--exit-zero"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_a_remote_folder_reports_what_the_local_folder_reports(logs, memfs, capsys, tmp_path):
    upload(memfs, logs, "/bucket/runs")
    before = _snapshot(memfs)
    _, local, _ = _json(capsys, str(logs), "-j", "1", "--no-cache")
    cache = tmp_path / "cache"
    rc, remote, err = _json(capsys, "memory://bucket/runs", "-j", "1", "--cache-dir", str(cache))
    assert rc == 0 and remote == local, err  # byte for byte
    doc = json.loads(remote)
    assert len(doc["runs"]) >= len(PICK) and doc["skipped"]
    assert str(cache) not in remote + err  # the mirror never shows
    assert _snapshot(memfs) == before  # nothing written to the remote
    # two jobs, and the result cache answering (the mirror's files are already there)
    for argv in (["-j", "2", "--no-cache"], ["-j", "1", "--cache-dir", str(cache)]):
        assert _json(capsys, "memory://bucket/runs", *argv)[1] == local
    # with another folder beside it: the URL's last part is its prefix, as a folder's name is
    other = FIX / "tensorboard" / "tf1_estimator"
    upload(memfs, other, "/other/tf1_estimator")
    os.rename(logs, logs.parent / "runs")
    both_local = _json(capsys, str(logs.parent / "runs"), str(other), "--no-cache", "-j", "1")[1]
    both = _json(capsys, "memory://bucket/runs", "memory://other/tf1_estimator", "--no-cache")[1]
    assert both == both_local and "tf1_estimator/" in both


def test_text_and_html_reports_and_the_python_api(logs, memfs, capsys, tmp_path):
    upload(memfs, logs, "/b/runs")
    main(["check", str(logs), "--no-cache", "--exit-zero"])
    local = capsys.readouterr().out
    main(["check", "memory://b/runs", "--no-cache", "--exit-zero"])
    assert capsys.readouterr().out == local
    for src, name in ((str(logs), "local.html"), ("memory://b/runs", "remote.html")):
        main(["check", src, "--format", "html", "-o", str(tmp_path / name), "--exit-zero"])
    html = (tmp_path / "remote.html").read_text(encoding="utf-8")
    local_html = (tmp_path / "local.html").read_text(encoding="utf-8")
    stamp = re.compile(r"generated [0-9-]+ [0-9:]+ UTC")
    local_html = stamp.sub("", local_html.replace(str(logs), "memory://b/runs"))
    assert "memory://b/runs" in html and stamp.sub("", html) == local_html
    assert os.environ["CURVELINT_CACHE_DIR"] not in html  # where the mirror is
    assert check("memory://b/runs").to_json() == check(logs).to_json()


def test_a_single_remote_file(memfs, capsys):
    src = FIX / "text" / "keras" / "training.log"
    memfs.pipe("/b/k/training.log", src.read_bytes())
    local = _json(capsys, str(src), "--no-cache")[1]
    assert _json(capsys, "memory://b/k/training.log", "--no-cache")[1] == local


def test_a_remote_folder_that_is_one_run_is_named_by_the_url(memfs, capsys):
    # the run is the folder itself: its id is the folder's name, not the mirror's layout
    src = FIX / "tensorboard" / "tf1_estimator"
    upload(memfs, src, "/b/exp/tf1_estimator")
    local = _json(capsys, str(src), "--no-cache", "-j", "1")[1]
    remote = _json(capsys, "memory://b/exp/tf1_estimator", "--no-cache", "-j", "1")[1]
    assert remote == local
    assert [r["run"] for r in json.loads(remote)["runs"]] == ["tf1_estimator"]


def _mirror_files(cache: Path) -> dict[str, tuple[int, int]]:
    """Files of the mirror(s) in ``cache``: relative path -> (inode, size)."""
    out = {}
    for p in (cache / "remote").rglob("*"):
        if p.is_file() and "tree" in p.parts:
            rel = Path(*p.parts[p.parts.index("tree") + 2 :]).as_posix()  # tree/<name>/...
            out[rel] = (p.stat().st_ino, p.stat().st_size)
    return out


def test_unchanged_files_are_not_downloaded_again(logs, memfs, capsys, tmp_path):
    upload(memfs, logs, "/b/runs")
    cache = tmp_path / "cache"
    args = ["memory://b/runs", "-j", "1", "--cache-dir", str(cache)]
    first = _json(capsys, *args)[1]
    files = _mirror_files(cache)
    log = "text-keras/training.log"
    assert files[log][1] == (logs / log).stat().st_size  # downloaded (a copy, not a stand-in)
    # files never opened (a file of an unknown format, an MLflow artifact) stay empty stand-ins
    assert files["notes.bin"][1] == 0
    artifact = next(k for k in files if k.endswith("artifacts/model.pkl"))
    assert files[artifact][1] == 0
    assert not any(".hidden" in k for k in files)  # hidden: not even listed locally
    assert _json(capsys, *args, "--no-cache")[1] == first  # mirror reused, nothing fetched
    assert _mirror_files(cache) == files  # same inodes: not downloaded again

    # a changed remote file is downloaded again and its run re-checked; a removed one is gone
    text = (logs / log).read_text()
    changed = text.replace("\n", "\n", 1) + text.splitlines()[-1] + "\n"
    memfs.pipe(f"/b/runs/{log}", changed.encode())
    memfs.rm("/b/runs/text-lightning_logs", recursive=True)
    (logs / log).write_text(changed)
    shutil.rmtree(logs / "text-lightning_logs")
    again = _json(capsys, *args)[1]
    assert again == _json(capsys, str(logs), "--no-cache")[1] != first
    now = _mirror_files(cache)
    assert now[log][0] != files[log][0] and now[log][1] == len(changed.encode())
    assert not any(k.startswith("text-lightning_logs") for k in now)
    unchanged = [k for k in now if k != log and files[k][1]]
    assert unchanged and all(now[k] == files[k] for k in unchanged)


def test_the_mirror_of_no_cache_is_removed(logs, memfs, capsys, monkeypatch, tmp_path):
    import tempfile

    upload(memfs, logs, "/b/runs")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    _json(capsys, "memory://b/runs", "--no-cache")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_errors_name_the_url_and_the_fix(memfs, capsys, monkeypatch):
    rc = main(["check", "memory://b/nothing-here"])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip() == "curvelint: memory://b/nothing-here: no such bucket or folder"
    rc = main(["check", "nosuchproto://b/runs"])
    err = capsys.readouterr().err
    assert rc == 2 and "nosuchproto://b/runs" in err and "protocol" in err
    assert len(err.strip().splitlines()) == 1
    # the protocol's package (s3fs) not installed
    monkeypatch.setitem(sys.modules, "s3fs", None)
    rc = main(["check", "s3://bucket/runs"])
    err = capsys.readouterr().err
    assert rc == 2 and "s3://bucket/runs" in err and "pip install 'curvelint[remote]'" in err
    # fsspec itself not installed
    monkeypatch.setitem(sys.modules, "fsspec", None)
    rc = main(["check", "memory://b/runs"])
    err = capsys.readouterr().err
    assert rc == 2 and "fsspec" in err and "curvelint[remote]" in err


def test_hostile_remote_names_are_skipped_not_written_outside(memfs, capsys, tmp_path):
    good = (FIX / "text" / "keras" / "training.log").read_bytes()
    memfs.pipe("/b/runs/ok/training.log", good)
    memfs.pipe("/b/runs/a//b.csv", b"step,loss\n1,2\n")  # an empty name part
    cache = tmp_path / "cache"
    rc, out, err = _json(capsys, "memory://b/runs", "--cache-dir", str(cache))
    doc = json.loads(out)
    assert rc == 0 and "ok/training.log" in [r["run"] for r in doc["runs"]]
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert "a//b.csv" in reasons and "stored locally" in reasons["a//b.csv"]
    assert [p for p in tmp_path.iterdir()] == [cache]  # nothing outside the cache folder


def test_the_mirror_shows_as_the_url(tmp_path):
    from analyzer.remote import Mirror, is_remote

    assert is_remote("s3://b/x") and is_remote("memory://x") and not is_remote("runs/x")
    assert not is_remote(Path("s3:/b"))
    m = Mirror.__new__(Mirror)
    m._names = [(str(tmp_path / "tree"), "s3://b/runs")]
    note = f"{tmp_path / 'tree'}/a/events.out: truncated record"
    assert m.display(note) == "s3://b/runs/a/events.out: truncated record"
    assert m.display_json(json.dumps(note)) == json.dumps(m.display(note))
