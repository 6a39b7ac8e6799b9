"""``check s3://bucket/runs`` against a real S3 API: moto's server (``moto[server]``), run in a
thread on a free local port, talked to by s3fs over HTTP exactly as AWS would be. Fixture
folders are uploaded with boto3; nothing of curvelint's is mocked. Slow (CI installs the
``remote`` extra and ``moto[server]`` before the slow tests).

Checked: the same findings as the local folder (the whole JSON, byte for byte, run ids being
relative to the URL as they are to a folder), the bucket is never written, an unchanged sweep
is not downloaded again (the mirror's copies keep their inodes), a changed object is, no such bucket and no
credentials are one line each (exit 2).
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")
fsspec = pytest.importorskip("fsspec")
pytest.importorskip("s3fs")

from analyzer.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
PICK = [
    ("tensorboard", "pytorch"),
    ("tensorboard", "tf2_summary"),
    ("text", "lightning_logs"),
    ("text", "mlruns"),
    ("training", "healthy-digits-cnn-s0"),
    ("gen2", "bert-majority3-s20"),
]


@pytest.fixture(scope="module")
def s3():
    """(endpoint, boto3 client) of a moto S3 server on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield endpoint, client
    server.stop()


@pytest.fixture
def s3_conf(s3, monkeypatch):
    """s3fs pointed at the server, through fsspec's configuration (what a user sets as
    ``FSSPEC_S3_ENDPOINT_URL`` etc.)."""
    endpoint, _ = s3
    monkeypatch.setitem(
        fsspec.config.conf,
        "s3",
        {
            "endpoint_url": endpoint,
            "key": "testing",
            "secret": "testing",
            "skip_instance_cache": True,
        },
    )
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return s3


def _upload(client, bucket: str, local: Path, prefix: str) -> None:
    for p in sorted(local.rglob("*")):
        if p.is_file():
            client.put_object(
                Bucket=bucket,
                Key=f"{prefix}/{p.relative_to(local).as_posix()}",
                Body=p.read_bytes(),
            )


def _objects(client, bucket: str) -> dict[str, str]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = o["ETag"]
    return out


def _json(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["check", *argv, "--format", "json", "--exit-zero"])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def logs(tmp_path) -> Path:
    root = tmp_path / "runs"
    for s, name in PICK:
        shutil.copytree(FIX / s / name, root / f"{s}-{name}")
    (root / "model.pt").write_bytes(b"\0" * 4096)  # a checkpoint: listed, skipped, never fetched
    return root


def test_an_s3_folder_reports_what_the_local_folder_reports(s3_conf, logs, capsys, tmp_path):
    endpoint, client = s3_conf
    client.create_bucket(Bucket="sweeps")
    _upload(client, "sweeps", logs, "team/runs")
    before = _objects(client, "sweeps")
    local = _json(capsys, str(logs), "-j", "1", "--no-cache")[1]
    cache = tmp_path / "cache"
    rc, remote, err = _json(capsys, "s3://sweeps/team/runs", "-j", "2", "--cache-dir", str(cache))
    assert rc == 0 and remote == local, err
    assert len(json.loads(remote)["runs"]) >= len(PICK)
    assert str(cache) not in remote + err
    assert _objects(client, "sweeps") == before  # never written
    mirror = next((cache / "remote").iterdir()) / "tree" / "runs"
    assert (mirror / "model.pt").stat().st_size == 0  # listed, never downloaded
    copies = {p: p.stat().st_ino for p in mirror.rglob("*") if p.is_file() and p.stat().st_size}
    assert copies

    # unchanged: nothing downloaded again (same files), the result cache answers
    assert _json(capsys, "s3://sweeps/team/runs", "--cache-dir", str(cache))[1] == local
    assert {p: p.stat().st_ino for p in copies} == copies

    # one object changed: that file only is downloaded again, and its run re-checked
    key = "team/runs/text-lightning_logs/version_0/metrics.csv"
    target = logs / "text-lightning_logs/version_0/metrics.csv"
    lines = target.read_text().splitlines(keepends=True)
    target.write_text("".join(lines[:-3]))
    client.put_object(Bucket="sweeps", Key=key, Body=target.read_bytes())
    changed = _json(capsys, "s3://sweeps/team/runs", "--cache-dir", str(cache))[1]
    assert changed == _json(capsys, str(logs), "--no-cache")[1] != local
    moved = [p for p in copies if p.stat().st_ino != copies[p]]
    assert [p.relative_to(mirror).as_posix() for p in moved] == [key[len("team/runs/") :]]


def test_s3_errors_are_one_line(s3_conf, capsys, monkeypatch):
    endpoint, client = s3_conf
    rc, _, err = _json(capsys, "s3://no-such-bucket/runs")
    assert (
        rc == 2 and err.strip() == "curvelint: s3://no-such-bucket/runs: no such bucket or folder"
    )
    client.create_bucket(Bucket="empty")
    rc, _, err = _json(capsys, "s3://empty/runs")
    assert rc == 2 and "s3://empty/runs" in err
    # no credentials at all (none configured, none in the environment or files)
    monkeypatch.setitem(
        fsspec.config.conf, "s3", {"endpoint_url": endpoint, "skip_instance_cache": True}
    )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    rc, _, err = _json(capsys, "s3://empty/runs")
    assert rc == 2 and "s3://empty/runs" in err and "credentials" in err
    assert len(err.strip().splitlines()) == 1
