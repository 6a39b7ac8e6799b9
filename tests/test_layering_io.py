"""Only the readers open log files.

import-linter (``[tool.importlinter]`` in pyproject.toml) checks who imports whom; it cannot see
who reads files. This test parses every module of ``analyzer/`` (outside ``analyzer/readers/``)
and ``rules/`` and fails on a call that reads a file -- ``open(...)``, ``<x>.open(...)``,
``.read_bytes()``, ``.read_text()`` or a pandas/numpy file loader -- unless the module and call
are on the allow-list below, with the reason. A new hit means: put the reading in a reader, or
add it here with a reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# method / attribute names whose call reads (or may read) a file
READ_ATTRS = {
    "open",  # Path.open, io.open, os.open, gzip.open...
    "read_bytes",
    "read_text",
    "read_csv",
    "read_table",
    "read_json",
    "read_parquet",
    "fromfile",
    "loadtxt",
    "genfromtxt",
    "memmap",
}

# (module path relative to the repo root, called name) -> why it may read a file
ALLOWED: dict[tuple[str, str], str] = {
    ("analyzer/config.py", "read_text"): "loads the user's curvelint config (TOML), not a log",
    ("analyzer/report/html.py", "read_text"): "inlines the packaged report.css / report.js",
    ("analyzer/cli/common.py", "open"): "writes the -o output file (check --format json)",
    ("analyzer/cache.py", "read_bytes"): "hashes curvelint's own source for the cache key",
    ("analyzer/rule_index.py", "read_text"): (
        "reads the rule modules' own source for their codes and names (not a log)"
    ),
    ("analyzer/remote.py", "read_text"): (
        "loads the manifest curvelint keeps beside a remote folder's local mirror (its own "
        "file, outside any log folder), not a log"
    ),
    ("analyzer/cache.py", "open"): (
        "hashes the first/last 64 KiB of a log file modified too recently for its size and "
        "mtime to be trusted (the result cache's 'in doubt' check); never parses it"
    ),
}


def _modules() -> list[Path]:
    files = sorted((ROOT / "analyzer").rglob("*.py")) + sorted((ROOT / "rules").rglob("*.py"))
    readers = ROOT / "analyzer" / "readers"
    return [f for f in files if readers not in f.parents]


def _reading_calls(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id == "open":
            hits.append((node.lineno, "open"))
        elif isinstance(fn, ast.Attribute) and fn.attr in READ_ATTRS:
            hits.append((node.lineno, fn.attr))
    return hits


def test_only_readers_open_files():
    unexpected = []
    seen = set()
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        for line, name in _reading_calls(path):
            if (rel, name) in ALLOWED:
                seen.add((rel, name))
            else:
                unexpected.append(f"{rel}:{line}: {name}(...)")
    assert not unexpected, (
        "file reading outside analyzer/readers/ (move it into a reader, or allow-list it with a "
        "reason in tests/test_layering_io.py):\n  " + "\n  ".join(unexpected)
    )
    stale = sorted(set(ALLOWED) - seen)
    assert not stale, f"allow-list entries that no longer match anything: {stale}"


def test_the_check_sees_reads(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(
        "from pathlib import Path\n"
        "def f(p):\n"
        "    with open(p) as fh:\n"
        "        fh.read()\n"
        "    Path(p).read_text()\n"
        "    Path(p).open('rb')\n"
        "    Path(p).read_bytes()\n"
        "    Path(p).write_text('x')\n",
        encoding="utf-8",
    )
    assert [n for _, n in sorted(_reading_calls(src))] == [
        "open",
        "read_text",
        "open",
        "read_bytes",
    ]
