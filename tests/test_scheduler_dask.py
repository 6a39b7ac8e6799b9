"""``check --scheduler``: runs as Dask tasks give the report ``-j 1`` gives (slow: each local
Dask cluster takes seconds to start; CI installs the ``dask`` extra before the slow tests).

A ``distributed.LocalCluster`` of two worker processes stands for a remote cluster (its
``tcp://`` address is passed as ``--scheduler``); ``--scheduler processes`` and ``threads``
start their own. Checked: the same JSON (run order included) on the fixtures, also with
several folders and with the result cache; cached runs are not sent to the workers; workers
running other curvelint code, an unreachable scheduler, a bad value and a missing Dask are
refused with one line (exit 2). (A missing Dask and a bad value: tests/test_check_stream.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
SETS = [str(FIX / "tensorboard"), str(FIX / "text"), str(FIX / "roles")]


def _json(capsys, *argv: str) -> str:
    rc = main(["check", *argv, "--format", "json", "--exit-zero"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return out.out


pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c


def test_a_cluster_gives_the_report_of_one_job(cluster, capsys, tmp_path):
    address = cluster.scheduler_address
    for paths in ([str(FIX / "training")], SETS):
        one = _json(capsys, *paths, "-j", "1", "--no-cache")
        assert _json(capsys, *paths, "--scheduler", address, "--no-cache") == one
    # with the result cache: filled through the cluster, then answering
    cache = str(tmp_path / "c")
    one = _json(capsys, *SETS, "-j", "1", "--no-cache")
    assert _json(capsys, *SETS, "--scheduler", address, "--cache-dir", cache) == one
    assert _json(capsys, *SETS, "--scheduler", address, "--cache-dir", cache) == one


def test_local_dask_clusters_and_the_python_api(capsys):
    from analyzer import check

    one = _json(capsys, *SETS, "-j", "1", "--no-cache")
    assert _json(capsys, *SETS, "--scheduler", "processes", "-j", "2", "--no-cache") == one
    assert check(SETS, scheduler="threads", jobs=2).to_json() == check(SETS).to_json()


def test_cached_runs_are_not_sent_to_the_workers(capsys, tmp_path, monkeypatch):
    import analyzer.runs as runs_module

    seen: list[str] = []
    real = runs_module.read_source  # workers in this process (threads) read through it

    def spy(src, root=None):
        seen.append(src.run)
        return real(src, root)

    monkeypatch.setattr(runs_module, "read_source", spy)
    cache = str(tmp_path / "c")
    argv = [str(FIX / "text"), "--scheduler", "threads", "--cache-dir", cache]
    first = _json(capsys, *argv)
    assert len(seen) == 4  # the four runs, read by the workers
    seen.clear()
    assert _json(capsys, *argv) == first and seen == []


def test_workers_with_other_code_are_refused(cluster, capsys, monkeypatch):
    import analyzer.cache as cache

    monkeypatch.setattr(cache, "_CODE_HASH", "not-the-workers-code")
    rc = main(["check", str(FIX / "text"), "--scheduler", cluster.scheduler_address])
    err = capsys.readouterr().err
    assert rc == 2 and "other curvelint code" in err


def test_an_unreachable_scheduler_is_one_line(capsys, monkeypatch):
    import socket

    import analyzer.scheduler as scheduler

    monkeypatch.setattr(scheduler, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(["check", str(FIX / "text"), "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert rc == 2 and f"tcp://127.0.0.1:{port}" in err and "cannot reach" in err
    assert len(err.strip().splitlines()) == 1
