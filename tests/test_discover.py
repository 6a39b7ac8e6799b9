"""Run discovery: grouping files into runs, ids, skipped files."""

import json
import os

import pytest

from analyzer.discover import discover


def touch(p, data=b""):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def runs(d):
    return {r.run: r for r in discover(d).runs}


def test_keras_train_validation_is_one_run(tmp_path):
    touch(tmp_path / "fit/20240101/train/events.out.tfevents.1.host.1.v2")
    touch(tmp_path / "fit/20240101/validation/events.out.tfevents.2.host.1.v2")
    touch(tmp_path / "fit/20240101/train/events.out.tfevents.1.host.profile-empty")
    r = runs(tmp_path)
    assert list(r) == ["fit/20240101"]
    assert len(r["fit/20240101"].files) == 2


def test_estimator_eval_and_add_scalars_merge(tmp_path):
    touch(tmp_path / "model_dir/events.out.tfevents.100.h")
    touch(tmp_path / "model_dir/events.out.tfevents.50.h")
    touch(tmp_path / "model_dir/eval/events.out.tfevents.60.h")
    touch(tmp_path / "pt/events.out.tfevents.1.h")
    touch(tmp_path / "pt/Loss_train/events.out.tfevents.1.h")
    touch(tmp_path / "pt/Loss_val/events.out.tfevents.1.h")
    r = runs(tmp_path)
    assert sorted(r) == ["model_dir", "pt"]
    names = [f.name for f in r["model_dir"].files]
    # files of one folder in timestamp order
    assert names.index("events.out.tfevents.50.h") < names.index("events.out.tfevents.100.h")
    assert len(r["pt"].files) == 3


def test_tensorboardx_add_scalars_folders_merge_into_their_run(tmp_path):
    # tensorboardX writes add_scalars("Loss", {"train": .., "val": ..}) to RUN/Loss/train/, .../val/
    touch(tmp_path / "r1/events.out.tfevents.1.h")
    touch(tmp_path / "r1/Loss/train/events.out.tfevents.1.h")
    touch(tmp_path / "r1/Loss/val/events.out.tfevents.1.h")
    touch(tmp_path / "r1/Acc/val/events.out.tfevents.1.h")
    # a Keras run (no event file of its own) beside another run stays a run of its own
    touch(tmp_path / "keras/train/events.out.tfevents.1.h")
    touch(tmp_path / "keras/validation/events.out.tfevents.1.h")
    r = runs(tmp_path)
    assert sorted(r) == ["keras", "r1"]
    assert len(r["r1"].files) == 4


def test_ultralytics_nested_runs_stay_separate(tmp_path):
    touch(tmp_path / "runs/train/exp/events.out.tfevents.1.h")
    touch(tmp_path / "runs/train/exp2/events.out.tfevents.1.h")
    assert sorted(runs(tmp_path)) == ["runs/train/exp", "runs/train/exp2"]


def test_lightning_versions_and_hidden_folders(tmp_path):
    for v in (0, 1):
        touch(tmp_path / f"lightning_logs/version_{v}/events.out.tfevents.1.h.1.0")
        touch(tmp_path / f"lightning_logs/version_{v}/events.out.tfevents.2.h.1.1")
    touch(tmp_path / ".git/events.out.tfevents.1.h")
    r = runs(tmp_path)
    assert sorted(r) == ["lightning_logs/version_0", "lightning_logs/version_1"]
    assert all(len(x.files) == 2 for x in r.values())


def test_hf_checkpoints_keep_most_complete(tmp_path):
    touch(tmp_path / "out/checkpoint-500/trainer_state.json", b'{"log_history": []}')
    touch(
        tmp_path / "out/checkpoint-1000/trainer_state.json",
        b'{"log_history": [{"loss": 1, "step": 1}]}',
    )
    d = discover(tmp_path)
    assert [(r.run, r.format) for r in d.runs] == [("out", "hf-trainer-state")]
    assert d.runs[0].files[0].parent.name == "checkpoint-1000"
    assert any("older checkpoint copy" in s.reason for s in d.skipped)


def test_mlflow_run_folder(tmp_path):
    run = tmp_path / "mlruns/0/abc123"
    touch(run / "meta.yaml", b"name: x\n")
    touch(run / "metrics/loss", b"1700000000000 1.0 0\n")
    touch(run / "metrics/train/acc", b"1700000000000 0.5 0\n")
    touch(run / "tags/mlflow.runName", b"nice-run")
    d = discover(tmp_path)
    assert [(r.run, r.format) for r in d.runs] == [("mlruns/0/abc123", "mlflow")]
    assert len(d.runs[0].files) == 2


def test_unknown_files_are_skipped_with_reason(tmp_path):
    touch(tmp_path / "a/notes.docx", b"xx")
    touch(tmp_path / "a/model.pt", b"xx")
    d = discover(tmp_path)
    reasons = {s.path: s.reason for s in d.skipped}
    assert "a/notes.docx" in reasons and ".docx" in reasons["a/notes.docx"]
    assert "a/model.pt" in reasons


def test_symlink_loop_terminates(tmp_path):
    touch(tmp_path / "r/events.out.tfevents.1.h")
    os.symlink(tmp_path, tmp_path / "r/loop")
    d = discover(tmp_path)
    assert [r.run for r in d.runs] == ["r"]
    assert any("loop" in s.reason for s in d.skipped)


def test_unreadable_folder_is_reported(tmp_path, monkeypatch):
    touch(tmp_path / "ok/events.out.tfevents.1.h")
    bad = tmp_path / "bad"
    touch(bad / "events.out.tfevents.1.h")
    real_scandir = os.scandir

    def scandir(path):  # root ignores chmod 0, so simulate the permission error
        if os.fspath(path) == os.fspath(bad):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    d = discover(tmp_path)
    assert [r.run for r in d.runs] == ["ok"]
    assert any(s.path == "bad" and "Permission denied" in s.reason for s in d.skipped)


def test_single_file_and_missing_path(tmp_path):
    f = touch(tmp_path / "events.out.tfevents.1.h")
    d = discover(f)
    assert [r.run for r in d.runs] == ["events.out.tfevents.1.h"]
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "nope")


def test_run_at_root_is_named_after_folder(tmp_path):
    root = tmp_path / "myrun"
    touch(root / "events.out.tfevents.1.h")
    assert [r.run for r in discover(root).runs] == ["myrun"]


def test_table_beside_event_files_of_the_same_run_is_read_once(tmp_path):
    # Ultralytics writes results.csv and event files with the same scalars into one folder
    touch(tmp_path / "runs/train/exp/events.out.tfevents.1.h")
    (tmp_path / "runs/train/exp/results.csv").write_text("epoch,train/box_loss\n0,0.1\n1,0.09\n")
    d = discover(tmp_path)
    assert [(r.run, r.format) for r in d.runs] == [("runs/train/exp", "tensorboard")]
    assert [s.path for s in d.skipped if "same run" in s.reason] == ["runs/train/exp/results.csv"]
    # a table alone still names its folder's run
    (tmp_path / "runs/train/exp/events.out.tfevents.1.h").unlink()
    assert [r.run for r in discover(tmp_path).runs] == ["runs/train/exp"]


def test_folders_nested_a_thousand_deep(tmp_path):
    # discovery once recursed per folder level: RecursionError and exit 1
    d = tmp_path
    for _ in range(1000):  # os.makedirs and Path.mkdir(parents=True) recurse too
        d = d / "a"
        os.mkdir(d)
    (d / "history.csv").write_bytes(b"epoch,loss\n0,1.0\n1,0.5\n")
    try:
        found = discover(tmp_path)
        assert len(found.runs) == 1 and found.runs[0].run.count("a/") >= 999
    finally:  # shutil.rmtree (pytest's clean-up of old temp folders) recurses per level too
        (d / "history.csv").unlink()
        while d != tmp_path:
            d.rmdir()
            d = d.parent


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_are_listed_as_skipped_and_never_opened(tmp_path):
    # a FIFO as an MLflow metric file once hung the read for ever
    run = tmp_path / "mlruns/0/abc123"
    touch(run / "meta.yaml", b"name: x\n")
    touch(run / "metrics/loss", b"1700000000000 1.0 0\n")
    os.mkfifo(run / "metrics/val_loss")
    os.mkfifo(tmp_path / "training.log")
    d = discover(tmp_path)
    assert [len(r.files) for r in d.runs] == [1]
    reasons = {s.path: s.reason for s in d.skipped}
    for p in ("mlruns/0/abc123/metrics/val_loss", "training.log"):
        assert "not a regular file" in reasons[p]


def test_hf_copy_with_the_latest_step_wins_not_the_biggest(tmp_path):
    # a checkpoint copy padded with long entries is bigger than the final state, which is newer
    big = {"global_step": 500, "log_history": [{"loss": 1.0, "step": 500, "note": "x" * 5000}]}
    final = {"global_step": 900, "log_history": [{"loss": 0.5, "step": 900}]}
    touch(tmp_path / "out/checkpoint-500/trainer_state.json", json.dumps(big).encode())
    touch(tmp_path / "out/trainer_state.json", json.dumps(final).encode())
    d = discover(tmp_path)
    assert [r.files[0].parent.name for r in d.runs] == ["out"]


def test_paths_given_twice_or_inside_another_are_checked_once(tmp_path):
    from analyzer.discover import distinct_roots, root_prefix

    a, b = tmp_path / "a", tmp_path / "a" / "b"
    b.mkdir(parents=True)
    f = b / "history.csv"
    f.write_text("epoch,loss\n0,1\n")
    kept, skipped = distinct_roots([str(a), str(b), str(a) + "/../a"])
    assert kept == [str(a)] and [s.path for s in skipped] == [str(b), str(a) + "/../a"]
    assert "inside" in skipped[0].reason and "same as" in skipped[1].reason
    # the folder after what lies inside it: the inner paths go, whatever their order
    kept, skipped = distinct_roots([str(f), str(b), str(a)])
    assert kept == [str(a)] and sorted(s.path for s in skipped) == sorted([str(f), str(b)])
    kept, skipped = distinct_roots(["s3://x/runs", "s3://x/runs", "s3://x/runs/a"])
    assert kept == ["s3://x/runs", "s3://x/runs/a"] and len(skipped) == 1  # URLs: as written
    assert root_prefix(f) == "b/" and root_prefix(b) == "b/"  # a file: its folder's name


def test_several_paths_name_their_runs_once(tmp_path, capsys):
    import json

    from analyzer.cli import main

    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "history.csv").write_text(
            "epoch,loss,val_loss\n"
            + "".join(f"{i},{1 / (i + 1)},{1.1 / (i + 1)}\n" for i in range(12))
        )
    files = [str(tmp_path / n / "history.csv") for n in ("x", "y")]
    main(["check", *files, "--format", "json", "--no-cache", "--exit-zero"])
    out = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in out["runs"]] == ["x/history.csv", "y/history.csv"]
    main(
        [
            "check",
            str(tmp_path),
            str(tmp_path / "x"),
            "--format",
            "json",
            "--no-cache",
            "--exit-zero",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in out["runs"]] == ["x/history.csv", "y/history.csv"]
    assert [s["path"] for s in out["skipped"]] == [str(tmp_path / "x")]
