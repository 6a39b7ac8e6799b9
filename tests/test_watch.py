"""`curvelint watch`: incremental reading of growing logs, de-duplicated findings, hooks."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from analyzer.cli import main
from analyzer.engine import Options
from analyzer.readers.tensorboard.framing import frame_record
from analyzer.readers.tensorboard.tail import EventTail
from analyzer.watch import Watcher

ROOT = Path(__file__).resolve().parents[1]


def scalar_event(step, **values):
    summ = summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in values.items()]
    )
    return event_pb2.Event(step=step, wall_time=1.7e9 + step, summary=summ)


def overfit(e):
    """Per-epoch train/val losses: val turns up after epoch 10."""
    return 2.0 / (1 + 0.3 * e), 0.8 + 0.6 * np.exp(-e / 3) + 0.02 * max(0, e - 10)


def test_event_file_read_incrementally_with_half_written_record(tmp_path):
    path = tmp_path / "events.out.tfevents.1.host"
    recs = [frame_record(scalar_event(s, loss=1.0 / (s + 1)).SerializeToString()) for s in range(5)]
    blob = b"".join(recs)
    cut = len(recs[0]) + len(recs[1]) + 7  # two records and the start of a third
    path.write_bytes(blob[:cut])
    ef = EventTail(path)
    assert ef.poll()
    assert ef.step == [0, 1] and ef.offset == len(recs[0]) + len(recs[1])
    assert not ef.poll()  # nothing complete was added
    with open(path, "ab") as fh:
        fh.write(blob[cut:])
    assert ef.poll()
    assert ef.step == [0, 1, 2, 3, 4]
    assert ef.value == pytest.approx([1.0 / (s + 1) for s in range(5)])
    # replaced by a shorter file: read again from the start
    path.write_bytes(recs[0])
    assert ef.poll() and ef.step == [0] and ef.resets == 1
    # replaced in place by other content of the same length
    other = frame_record(scalar_event(9, loss=7.0).SerializeToString())
    path.write_bytes(other + recs[1])
    assert ef.poll() and ef.step == [9, 1]


def test_event_file_reads_only_appended_bytes(tmp_path, monkeypatch):
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(frame_record(scalar_event(0, loss=1.0).SerializeToString()))
    ef = EventTail(path)
    ef.poll()
    import analyzer.readers.tensorboard.decode as tbd

    decoded = []
    real = tbd.parse_event

    def counting(payload):
        decoded.append(payload)
        return real(payload)

    monkeypatch.setattr(tbd, "parse_event", counting)
    with open(path, "ab") as fh:
        fh.write(frame_record(scalar_event(1, loss=0.5).SerializeToString()))
    ef.poll()
    assert len(decoded) == 1 and ef.step == [0, 1]


def write_epochs(writer, start, stop):
    for e in range(start, stop):
        tr, va = overfit(e)
        writer.add_event(scalar_event(e, **{"epoch_loss": tr}))
    writer.flush()


def test_watcher_follows_tensorboard_and_csv_runs(tmp_path):
    logdir = tmp_path / "logs"
    (logdir / "tb" / "train").mkdir(parents=True)
    (logdir / "tb" / "validation").mkdir(parents=True)
    w_tr = EventFileWriter(str(logdir / "tb" / "train"))
    w_va = EventFileWriter(str(logdir / "tb" / "validation"))

    def epochs(a, b):
        for e in range(a, b):
            tr, va = overfit(e)
            w_tr.add_event(scalar_event(e, epoch_loss=tr))
            w_va.add_event(scalar_event(e, epoch_loss=va))
        w_tr.flush()
        w_va.flush()

    watcher = Watcher(logdir, Options())
    assert watcher.poll() == []  # folders only, no data yet
    epochs(0, 8)
    assert "OVF001" not in [f.code for f in watcher.poll()]  # val still falling
    run = watcher.states["tb"].run
    assert (
        run.roles.train_loss == "train/epoch_loss" and run.roles.val_loss == "validation/epoch_loss"
    )
    epochs(8, 27)
    # a rising validation loss may recede: it is announced once two polls in a row show it
    assert "OVF001" not in [f.code for f in watcher.poll()]
    epochs(27, 30)
    new = watcher.poll()
    assert "OVF001" in [f.code for f in new]
    assert len(watcher.states["tb"].run.frame) == 60
    # the incremental reading gives the same table as reading the files from scratch
    from analyzer.runs import load

    full = load(logdir).runs[0].frame
    mine = watcher.states["tb"].run.frame
    for col in ("tag", "step", "value"):
        assert list(mine[col]) == list(full[col])
    epochs(30, 31)
    assert "OVF001" not in [f.code for f in watcher.poll()]  # reported once
    # training resumed: a new event file appears in the train folder of the same run
    w2 = EventFileWriter(str(logdir / "tb" / "train"), filename_suffix=".resumed")
    for e in range(31, 35):
        w2.add_event(scalar_event(e, epoch_loss=overfit(e)[0]))
    w2.close()
    watcher.poll()
    train = watcher.states["tb"].run.frame.query("tag == 'train/epoch_loss'")
    assert list(train.step) == list(range(35))
    assert watcher.poll() == [] and not watcher.changed  # nothing new: nothing read or rerun

    # a CSV run appears and grows
    csv = logdir / "keras" / "training.log"
    csv.parent.mkdir()
    lines = ["epoch,loss,val_loss"] + [
        f"{e},{2.0 / (1 + e):.5f},{2.1 / (1 + e):.5f}" for e in range(6)
    ]
    csv.write_text("\n".join(lines) + "\n")
    watcher.poll()
    assert len(watcher.states["keras/training.log"].run.frame) == 12
    with open(csv, "a") as fh:
        for e in range(6, 30):
            fh.write(f"{e},{0.05 * 1.4 ** (e - 6):.5f},{0.06 * 1.4 ** (e - 6):.5f}\n")
    new = watcher.poll()
    assert len(watcher.states["keras/training.log"].run.frame) == 60
    assert "DIV002" in [f.code for f in new if f.run == "keras/training.log"]
    rep = watcher.report()
    assert sorted(r.run for r in rep.runs) == ["keras/training.log", "tb"]
    # a run that disappears is forgotten
    os.remove(csv)
    watcher.poll()
    assert sorted(watcher.states) == ["tb"]
    w_tr.close()
    w_va.close()


def test_cli_once_json_and_hook(tmp_path, capsys):
    logdir = tmp_path / "run"
    logdir.mkdir()
    w = EventFileWriter(str(logdir))
    for e in range(40):
        loss = 1.0 / (1 + e) if e < 20 else float("nan")
        w.add_event(scalar_event(e, loss=loss))
    w.close()
    hook_out = tmp_path / "hook.jsonl"
    hook = f"{sys.executable} -c \"import sys; open(r'{hook_out}', 'a').write(sys.stdin.read() + chr(10))\""
    html = tmp_path / "r.html"
    rc = main(
        ["watch", str(logdir), "--once", "--format", "json", "--on-finding", hook, "--no-config"]
        + ["--html", str(html)]
    )
    assert rc == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "DIV001" in [d["code"] for d in printed]
    hooked = [json.loads(line) for line in hook_out.read_text().splitlines()]
    assert [d["code"] for d in hooked] == [d["code"] for d in printed]
    assert all(d["run"] for d in hooked)
    try:
        import analyzer.report.html  # noqa: F401
    except ImportError:
        return
    assert html.exists() and "DIV001" in html.read_text()


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["watch", str(tmp_path / "missing"), "--once"]) == 2
    assert main(["watch", str(tmp_path), "--once", "--select", "NOPE9"]) == 2


def test_cli_unknown_rule_option_exits_2_with_one_line(tmp_path):
    """Before: a traceback (ValueError "DIV002: DIV002: unknown option(s)") at the first poll."""
    logdir = tmp_path / "logs"
    logdir.mkdir()
    cfg = tmp_path / "curvelint.toml"
    cfg.write_text("[rules.DIV002]\nnonsense = 3\n")
    cmd = [sys.executable, "-m", "analyzer", "watch", str(logdir), "--once"]
    res = subprocess.run(cmd + ["--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"curvelint: {cfg}: DIV002: unknown option 'nonsense' (options: ")
    assert lines[0].count("DIV002") == 1
    # the nearest config file (found from the working folder) is checked the same way
    (tmp_path / "pyproject.toml").write_text('[tool.curvelint.rules.DIV002]\nmin_ratio = "x"\n')
    cfg.unlink()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert res.returncode == 2 and len(res.stderr.splitlines()) == 1, res.stderr
    assert "DIV002: option 'min_ratio' must be a number, not 'x' (str)" in res.stderr


@pytest.mark.parametrize("sig", [2, 15])
def test_watch_real_time_with_writer_process_and_ctrl_c(tmp_path, sig):
    """`curvelint watch` in its own process while another process writes event files; SIGINT
    (Ctrl-C) or SIGTERM ends it with status 0 and its summary."""
    logdir = tmp_path / "live"
    logdir.mkdir()
    writer = f"""
import time, sys
sys.path.insert(0, {str(ROOT)!r})
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
w = EventFileWriter({str(logdir)!r}, flush_secs=1)
for e in range(60):
    loss = 1.0 / (1 + e) if e < 30 else 1e3 * 1.5 ** (e - 30)
    if e >= 45:
        loss = float("nan")
    v = summary_pb2.Summary.Value(tag="loss", simple_value=loss)
    w.add_event(event_pb2.Event(step=e, wall_time=time.time(), summary=summary_pb2.Summary(value=[v])))
    if e % 10 == 9:
        w.flush()
        time.sleep(0.3)
w.close()
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    watch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analyzer",
            "watch",
            str(logdir),
            "--interval",
            "0.2",
            "--no-config",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C as in a terminal: a test run started in the background (`pytest &` in a
        # script) ignores SIGINT, and a Python child that starts with it ignored never raises
        # KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        subprocess.run([sys.executable, "-c", writer], check=True, timeout=60)
        out_lines: list[str] = []

        def reader():
            for line in watch.stdout:
                out_lines.append(line)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        deadline = time.time() + 30
        while time.time() < deadline and not any("DIV001" in x for x in out_lines):
            time.sleep(0.2)
        watch.send_signal(sig)  # Ctrl-C, or SIGTERM (kill, a job scheduler)
        rc = watch.wait(timeout=20)
        t.join(timeout=5)
        err_text = watch.stderr.read()
    finally:
        if watch.poll() is None:
            watch.kill()
    assert rc == 0
    assert "watched 1 run(s)" in err_text
    text = "".join(out_lines)
    assert text.count("DIV001") == 1
    assert "live: DIV001" in text


def test_watch_html_reloads_itself_and_once_does_not(tmp_path):
    from analyzer.cli.watch import live_page

    page = live_page("<html><head><title>t</title></head></html>", 5)
    assert page.startswith('<html><head><meta http-equiv="refresh" content="5">')
    logdir = tmp_path / "runs"
    logdir.mkdir()
    (logdir / "log.csv").write_text(
        "epoch,loss,val_loss\n" + "".join(f"{e},{1 / (1 + e)},{1.1 / (1 + e)}\n" for e in range(20))
    )
    once = tmp_path / "once.html"
    assert main(["watch", str(logdir), "--once", "--no-config", "--html", str(once)]) == 0
    assert 'http-equiv="refresh"' not in once.read_text()
    live = tmp_path / "live.html"
    args = ["watch", str(logdir), "--interval", "3", "--max-polls", "1", "--no-config"]
    assert main([*args, "--html", str(live)]) == 0
    assert '<meta http-equiv="refresh" content="3">' in live.read_text()


def test_watch_says_when_a_finding_went_away(tmp_path, capsys):
    # a validation bump that recedes: announced after two polls, resolved after two without it
    logdir = tmp_path / "runs"
    logdir.mkdir()
    csv = logdir / "log.csv"
    train = [2.0 * np.exp(-e / 6) + 0.05 for e in range(60)]
    val = [2.1 * np.exp(-e / 6) + 0.1 for e in range(60)]
    for e in range(14, 22):
        val[e] *= 2.5  # a bump of the validation loss for eight epochs
    w = Watcher(logdir, Options())

    def write(n):
        csv.write_text(
            "epoch,loss,val_loss\n" + "".join(f"{e},{train[e]},{val[e]}\n" for e in range(n))
        )
        time.sleep(0.01)
        os.utime(csv, (time.time() + n, time.time() + n))

    said, resolved = [], []
    for n in (12, 18, 20, 22, 40, 50, 60):
        write(n)
        said += [f.code for f in w.poll()]
        resolved += [f.code for f in w.resolved]
    assert said and set(said) <= {"OVF001", "DIV002"}
    assert set(resolved) == set(said)


@pytest.mark.parametrize("damage", ["bad-length-crc", "lying-length"])
def test_watch_resynchronises_over_a_corrupt_length_like_check(tmp_path, damage):
    # watch once stopped for good at a corrupt length field that check reads past
    import struct

    from analyzer.readers.tensorboard.framing import masked_crc
    from analyzer.runs import load

    recs = [
        frame_record(scalar_event(s, loss=1.0 / (s + 1)).SerializeToString()) for s in range(600)
    ]
    if damage == "bad-length-crc":
        bad = struct.pack("<Q", 123) + b"\0\0\0\0"
    else:  # a length far past the end, with a valid checksum of that lie
        head = struct.pack("<Q", 2**40)
        bad = head + struct.pack("<I", masked_crc(head))
    path = tmp_path / "run" / "events.out.tfevents.1.host"
    path.parent.mkdir()
    path.write_bytes(b"".join(recs[:250]) + bad + b"".join(recs[250:]))
    ef = EventTail(path)
    ef.poll()
    batch = load(tmp_path).runs[0].frame
    assert ef.step == list(range(600)) == sorted(batch[batch["tag"] == "loss"]["step"].tolist())
    assert ef.skipped_bytes == len(bad)


def test_tail_frame_equals_the_batch_reader_over_restarts_and_plugins(tmp_path):
    from analyzer.readers import tensorboard as tb

    def tensor_event(step, tag, plugin):
        md = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin)
        )
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[float(step)])
        val = summary_pb2.Summary.Value(tag=tag, metadata=md, tensor=tensor)
        return event_pb2.Event(step=step, wall_time=2.0, summary=summary_pb2.Summary(value=[val]))

    start = event_pb2.Event(
        step=5, wall_time=3.0, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    )
    first = [scalar_event(s, loss=1.0 / (s + 1)) for s in range(10)]
    first += [tensor_event(s, "hist", "histograms") for s in range(3)]
    second = [start] + [scalar_event(s, loss=2.0 / (s + 1)) for s in range(5, 12)]
    second += [tensor_event(s, "hist", "scalars") for s in range(3)]  # declared elsewhere first
    run = tmp_path / "run"
    (run / "train").mkdir(parents=True)
    paths = [run / "train" / "events.out.tfevents.1.h", run / "train" / "events.out.tfevents.2.h"]
    blobs = [b"".join(frame_record(e.SerializeToString()) for e in evs) for evs in (first, second)]
    tails = [EventTail(p, run, "run") for p in paths]
    for cut in (0.3, 0.7, 1.0):  # the files grow in three steps
        for p, blob, tail in zip(paths, blobs, tails, strict=True):
            p.write_bytes(blob[: int(len(blob) * cut)])
            tail.poll()
        batch = tb.read("run", paths, run)
        got = tb.tail_frame("run", tails)
        assert got.frame.equals(batch.frame)
    assert sorted(set(got.frame["tag"])) == ["train/loss"]
    assert got.frame["step"].tolist() == list(range(12))
    assert any("SessionLog.START" in n for n in got.folder_notes)


def test_one_runs_findings_do_not_resolve_anothers(tmp_path):
    # the findings of every run were tracked together: observing one run's findings "resolved"
    # those of the runs observed before it once a folder held six runs or more
    import shutil

    src = Path(__file__).resolve().parent.parent / "fixtures" / "training"
    runs = sorted(p for p in src.iterdir() if p.is_dir())[:10]
    for p in runs:
        shutil.copytree(p, tmp_path / p.name)
    w = Watcher(tmp_path, Options.build())
    first = w.poll()
    assert len({f.run for f in first}) >= 6  # findings in many runs
    assert w.resolved == []
    w.poll()  # nothing changed: nothing new, nothing resolved
    assert w.resolved == []


def test_watch_says_when_no_run_has_the_given_tag(capsys):
    logdir = Path(__file__).resolve().parent.parent / "fixtures" / "tensorboard"
    # --once: a usage error, as for check
    assert main(["watch", str(logdir), "--once", "--train-loss", "nosuch"]) == 2
    assert "--train-loss 'nosuch': no run has such a tag" in capsys.readouterr().err
    # following: said once, then it goes on watching
    assert (
        main(
            [
                "watch",
                str(logdir),
                "--interval",
                "0.01",
                "--max-polls",
                "3",
                "--train-loss",
                "nosuch",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert err.count("no run has such a tag") == 1 and "still watching" in err
