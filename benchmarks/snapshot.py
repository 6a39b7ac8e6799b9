"""Snapshot `curvelint check --format json` on every bundled fixture folder and the shared real logs.

Used to show that a refactor changes no behaviour: take a snapshot before, one after, compare.

    python benchmarks/snapshot.py save /tmp/before
    ... change the code ...
    python benchmarks/snapshot.py save /tmp/after
    python benchmarks/snapshot.py compare /tmp/before /tmp/after

`compare` prints one line per folder (identical / differs, with the first differing runs) and
exits 1 when any folder differs. Each folder is analysed in a separate `curvelint` process, as
a user would run it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_LOGS = ROOT.parent / "shared" / "real-logs"


def folders() -> list[tuple[str, Path]]:
    out = [(p.name, p) for p in sorted((ROOT / "fixtures").iterdir()) if p.is_dir()]
    if REAL_LOGS.is_dir():
        out.append(("real-logs", REAL_LOGS))
    return out


def save(dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    for name, path in folders():
        proc = subprocess.run(
            [sys.executable, "-m", "analyzer", "check", str(path), "--format", "json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        (dest / f"{name}.json").write_text(proc.stdout)
        (dest / f"{name}.stderr").write_text(proc.stderr)
        (dest / f"{name}.rc").write_text(str(proc.returncode))
        runs = len(json.loads(proc.stdout)["runs"]) if proc.stdout.strip() else 0
        print(f"{name:12} exit {proc.returncode}  {runs} runs")
    return 0


def _by_run(text: str) -> dict[str, object]:
    if not text.strip():
        return {}
    doc = json.loads(text)
    return {r["run"]: r for r in doc["runs"]} | {"<skipped>": doc.get("skipped")}


def compare(a: Path, b: Path) -> int:
    differing = 0
    for name, _ in folders():
        fa, fb = a / f"{name}.json", b / f"{name}.json"
        if not fa.exists() or not fb.exists():
            print(f"{name:12} missing in one snapshot")
            differing += 1
            continue
        ra, rb = _by_run(fa.read_text()), _by_run(fb.read_text())
        rc_same = (a / f"{name}.rc").read_text() == (b / f"{name}.rc").read_text()
        diff = sorted(k for k in ra.keys() | rb.keys() if ra.get(k) != rb.get(k))
        if not diff and rc_same:
            print(f"{name:12} identical ({len(ra) - 1} runs)")
        else:
            differing += 1
            print(
                f"{name:12} DIFFERS: {len(diff)} run(s), exit codes {'same' if rc_same else 'differ'}"
            )
            for k in diff[:5]:
                print(f"    {k}")
    return 1 if differing else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save", help="write a snapshot into DEST")
    s.add_argument("dest", type=Path)
    c = sub.add_parser("compare", help="compare two snapshots; exit 1 when they differ")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    return save(args.dest) if args.cmd == "save" else compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
