"""The on-disk cache of per-run results (``curvelint check`` re-checks unchanged runs from it).

One SQLite file (``results-v1.sqlite``) in the cache folder: :func:`default_dir` (the platform's
cache folder, e.g. ``~/.cache/curvelint``, or ``$CURVELINT_CACHE_DIR``), never a log folder.
Each row holds what checking one run gave (its :class:`~analyzer.findings.RunReport`, or none,
and the skipped entries reading it gave), as compressed JSON (its JSON text for the report as
it is: a re-check writes every run's out, and inflating it cost more than reading the larger
row), under a key that names

* the run: its id as shown, format, folder, files and the display root (the caller's
  ``identity``), and
* everything else the result depends on (the caller's ``fingerprint``: curvelint's version and
  code, the rule selection and options, the role overrides),

and beside it the *stamp* of the files the run was read from (path, size, ``mtime_ns``, inode).
A row is used only when the stamp taken now is the same. When a file was modified within
:data:`RACY_NS` of the moment its stamp was taken, size and mtime may not tell a later change
(file systems keep mtime to a second or two): such a file is "in doubt" and the row also keeps a
hash of its first and last :data:`BLOCK` bytes, which must match too.

The engine also keeps a folder's discovery (its runs and skipped entries) in a row, checked
against :func:`tree_stamp` of every folder and file walked (see
:func:`analyzer.engine._discover_local`).

Rows are written by one process (the one that runs ``check``; workers only compute), in a few
transactions, with SQLite's write-ahead log so that two curvelint processes may share the
cache. Anything wrong with the cache (a corrupt row, a corrupt or locked file, a read-only
folder) makes it miss or stop writing, never fails the check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import struct
import sys
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .findings import SEVERITY_RANK, Finding, Mark, Remedy, RunReport, Setup

SCHEMA = 2
DB_NAME = f"results-v{SCHEMA}.sqlite"
#: a file modified less than this before its stamp was taken is "in doubt" (content hashed)
RACY_NS = 3_000_000_000
#: bytes hashed at each end of a file in doubt
BLOCK = 64 * 1024
#: rows written per transaction
BATCH = 500

Stamp = list[Any]  # [[path, size, mtime_ns, inode] or [path, None] when missing, ...]


def default_dir() -> Path:
    """``$CURVELINT_CACHE_DIR``, else the platform's cache folder + ``curvelint``:
    ``$XDG_CACHE_HOME`` or ``~/.cache`` (Linux and others), ``~/Library/Caches`` (macOS),
    ``%LOCALAPPDATA%`` (Windows)."""
    env = os.environ.get("CURVELINT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "curvelint" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "curvelint"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "curvelint"


_CODE_HASH: str | None = None


def code_hash(rules_dir: Path | None = None) -> str:
    """:func:`code_fingerprint` of ``analyzer`` and ``rules`` (``rules_dir``: where the rules
    package is; by default beside ``analyzer``), computed once per process."""
    global _CODE_HASH
    if _CODE_HASH is None:
        here = Path(__file__).resolve().parent
        _CODE_HASH = code_fingerprint([here, rules_dir or here.parent / "rules"])
    return _CODE_HASH


def code_fingerprint(packages: Iterable[Path]) -> str:
    """A hash of the source of every ``.py`` file under ``packages`` (curvelint's own code:
    editing a rule, a reader or the engine invalidates the cache)."""
    h = hashlib.sha256()
    for pkg in packages:
        for f in sorted(Path(pkg).rglob("*.py")):
            if "__pycache__" in f.parts:
                continue
            h.update(f.relative_to(pkg.parent).as_posix().encode())
            try:
                h.update(f.read_bytes())
            except OSError:
                h.update(b"?")
    return h.hexdigest()


def library_version(name: str) -> str:
    """The installed version of the top-level package ``name`` (part of the cache key), without
    importing it: from the ``<name>-<version>.dist-info`` (or ``.egg-info``) folder beside the
    package, else from :mod:`importlib.metadata`, else from the module's ``__version__``;
    ``"missing"`` when it is not installed, ``"unknown"`` when no version can be found.
    (Importing pandas and scipy only to read their versions was most of the start-up of a
    ``check`` answered from the cache.)"""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "missing"
    if spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        want = name.lower().replace("-", "_")
        found = set()
        with contextlib.suppress(OSError):
            for entry in os.listdir(site):
                stem, dot, kind = entry.rpartition(".")
                if dot and kind in ("dist-info", "egg-info"):
                    project, _, version = stem.partition("-")
                    if project.lower().replace("-", "_").replace(".", "_") == want and version:
                        found.add(version)
        if len(found) == 1:
            return found.pop()
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        pass
    try:
        return str(getattr(__import__(name), "__version__", "unknown"))
    except ImportError:
        return "missing"


def fingerprint(parts: dict[str, Any]) -> str:
    """A hash of ``parts`` (JSON-able: versions, options, code hash)."""
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def stamp(files: Sequence[str | os.PathLike]) -> tuple[Stamp, list[int]]:
    """The stamp of ``files`` (stat calls only) and the positions of the files in doubt
    (modified less than :data:`RACY_NS` ago, or in the future)."""
    now = time.time_ns()
    out: Stamp = []
    doubt: list[int] = []
    for i, f in enumerate(files):
        p = os.fspath(f)
        try:
            st = os.stat(p)
        except OSError:
            out.append([p, None])
            continue
        out.append([p, st.st_size, st.st_mtime_ns, st.st_ino])
        if st.st_mtime_ns > now - RACY_NS:
            doubt.append(i)
    return out, doubt


def tree_stamp(paths: Sequence[str]) -> tuple[str | None, bool]:
    """A digest of the stat of every path (size, mtime, ctime, inode, mode) in order, and
    whether one of them changed less than :data:`RACY_NS` ago (a later change within the
    clock's granularity could then keep the same stamp). (None, True) when one cannot be
    stat'ed. Adding, removing or renaming an entry changes its folder's mtime, so the digest of
    a tree's folders and files tells whether its listing may have changed."""
    now = time.time_ns()
    h = hashlib.blake2b(digest_size=16)
    racy = False
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None, True
        h.update(
            f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0{st.st_mode}\n".encode()
        )
        if st.st_mtime_ns > now - RACY_NS or st.st_ctime_ns > now - RACY_NS:
            racy = True
    return h.hexdigest(), racy


def content_hash(path: str | os.PathLike) -> str:
    """Hash of the size and the first and last :data:`BLOCK` bytes of ``path`` ("" when it
    cannot be read)."""
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            h.update(str(size).encode())
            h.update(fh.read(BLOCK))
            if size > BLOCK:
                fh.seek(max(BLOCK, size - BLOCK))
                h.update(fh.read(BLOCK))
    except OSError:
        return ""
    return h.hexdigest()


def doubt_hashes(st: Stamp, doubt: Sequence[int]) -> dict[str, str]:
    return {st[i][0]: content_hash(st[i][0]) for i in doubt}


# --- RunReport <-> JSON (every field, marks and "why" included: the HTML report needs them) ----


class Unstorable(TypeError):
    """A value the cache cannot store faithfully (the run is then not cached)."""


def _enc(o: Any) -> Any:
    if o is None or isinstance(o, (bool, int, str)):
        if type(o) not in (bool, int, str, type(None)):
            raise Unstorable(type(o).__name__)  # e.g. numpy.int64: keep its type
        return o
    if type(o) is float:
        return o
    if type(o) is list:
        return [_enc(v) for v in o]
    if type(o) is tuple:
        return {"__tuple__": [_enc(v) for v in o]}
    if type(o) is dict:
        if any(type(k) is not str or k == "__tuple__" for k in o):
            raise Unstorable("dict key")
        return {k: _enc(v) for k, v in o.items()}
    raise Unstorable(type(o).__name__)


def _dec(o: Any) -> Any:
    if isinstance(o, list):
        return [_dec(v) for v in o]
    if isinstance(o, dict):
        if len(o) == 1 and "__tuple__" in o:
            return tuple(_dec(v) for v in o["__tuple__"])
        return {k: _dec(v) for k, v in o.items()}
    return o


def _finding_enc(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "kind": f.kind,
        "severity": f.severity,
        "curve": _enc(f.curve),
        "start_step": _enc(f.start_step),
        "end_step": _enc(f.end_step),
        "confidence": _enc(f.confidence),
        "message": f.message,
        "evidence": _enc(f.evidence),
        "remedies": [
            [r.id, r.title, r.why, r.keras, r.pytorch, r.lightning, r.hf] for r in f.remedies
        ],
        "run": f.run,
        "defers_to": list(f.defers_to),
        "transient": _enc(f.transient),
        "marks": [_enc([m.shape, m.role, m.start, m.end, m.value, m.period]) for m in f.marks],
        "why": f.why,
        "facts": [list(x) for x in f.facts],
    }


def _finding_dec(d: dict[str, Any]) -> Finding:
    return Finding(
        code=d["code"],
        name=d["name"],
        kind=d["kind"],
        severity=d["severity"],
        curve=d["curve"],
        start_step=d["start_step"],
        end_step=d["end_step"],
        confidence=d["confidence"],
        message=d["message"],
        evidence=_dec(d["evidence"]),
        remedies=tuple(Remedy(*r) for r in d["remedies"]),
        run=d["run"],
        defers_to=tuple(d["defers_to"]),
        transient=d["transient"],
        marks=tuple(Mark(*m) for m in d["marks"]),
        why=d["why"],
        facts=tuple((k, lab, fm) for k, lab, fm in d.get("facts", ())),
    )


def _report_enc(report: RunReport) -> dict[str, Any]:
    return {
        "run": report.run,
        "format": report.format,
        "roles": _enc(report.roles),
        "verdict": report.verdict,
        "findings": [_finding_enc(f) for f in report.findings],
        "files": _enc(report.files),
        "notes": _enc(report.notes),
        "role_reasons": _enc(report.role_reasons),
        "summary": _enc(report.summary),
        "hparams": _enc(report.hparams),
        "setup": _enc(report.setup.to_dict()),
    }


def _report_dec(rep: dict[str, Any]) -> RunReport:
    return RunReport(
        run=rep["run"],
        format=rep["format"],
        roles=_dec(rep["roles"]),
        verdict=rep["verdict"],
        findings=[_finding_dec(f) for f in rep["findings"]],
        files=_dec(rep["files"]),
        notes=_dec(rep["notes"]),
        role_reasons=_dec(rep["role_reasons"]),
        summary=_dec(rep["summary"]),
        hparams=_dec(rep.get("hparams", {})),
        setup=Setup.from_dict(_dec(rep.get("setup"))),
    )


def worst_severity(report: RunReport) -> str | None:
    """The worst severity of ``report``'s findings (a cached report answers without being
    decoded)."""
    if isinstance(report, CachedRunReport) and "_blob" in report.__dict__:
        return report.__dict__["_worst"]
    sev = [f.severity for f in report.findings]
    return max(sev, key=SEVERITY_RANK.__getitem__) if sev else None


def stored_facts(report: RunReport) -> dict[str, Any] | None:
    """The ``facts`` stored with a cached report's row (see :func:`encode_result`), read
    without decoding the report; None for any other report."""
    return report.__dict__.get("_facts") if isinstance(report, CachedRunReport) else None


class CachedRunReport(RunReport):
    """A cached :class:`RunReport` decoded when first looked at (re-checking thousands of
    unchanged runs for a JSON report needs only their stored JSON text and worst severity)."""

    def __init__(self, blob: bytes, worst: str | None, facts: dict[str, Any] | None = None):
        # no dataclass __init__: lazy
        self.__dict__["_blob"] = blob
        self.__dict__["_worst"] = worst
        self.__dict__["_facts"] = facts

    def __getattr__(self, name: str) -> Any:  # only for attributes not yet set
        blob = self.__dict__.pop("_blob", None)
        if blob is None or name.startswith("__"):
            raise AttributeError(name)
        full = _report_dec(json.loads(zlib.decompress(blob)))
        self.__dict__.update(full.__dict__)
        return getattr(self, name)


_HEAD = struct.Struct("<III")


def encode_result(
    report: RunReport | None,
    skipped: Sequence[tuple[str, str]],
    text: str | None = None,
    facts: dict[str, Any] | None = None,
) -> bytes:
    """One run's result as bytes: a small header (worst severity, skipped entries, and
    ``facts``: plain JSON data a re-check needs of the report, e.g. for the sweep section), the
    report (compressed JSON) and its JSON text for the report (when made; uncompressed). Raises
    :class:`Unstorable`."""
    head: dict[str, Any] = {
        "report": report is not None,
        "worst": worst_severity(report) if report is not None else None,
        "skipped": [[str(p), str(r)] for p, r in skipped],
    }
    if facts is not None:
        if _enc(facts) != facts:  # read back as stored (no tuples to restore): plain JSON only
            raise Unstorable("facts that are not plain JSON")
        head["facts"] = facts
    a = zlib.compress(json.dumps(head, separators=(",", ":")).encode(), 1)
    b = b""
    if report is not None:
        b = zlib.compress(json.dumps(_report_enc(report), separators=(",", ":")).encode(), 1)
    # the report's JSON text is kept as it is: a re-check of thousands of runs writes each one
    # out, and inflating it would cost more than reading the larger row
    c = text.encode() if text is not None else b""
    return _HEAD.pack(len(a), len(b), len(c)) + a + b + c


def decode_result(
    blob: bytes, *, lazy: bool = False
) -> tuple[RunReport | None, list[tuple[str, str]], str | None]:
    """The inverse of :func:`encode_result`: (report, skipped, text). ``lazy``: the report is
    a :class:`CachedRunReport`, decoded when first looked at, and the text is only checked to
    look like a JSON object. Raises on a corrupt blob."""
    na, nb, nc = _HEAD.unpack_from(blob)
    if _HEAD.size + na + nb + nc != len(blob):
        raise ValueError("cache row of the wrong length")
    a = _HEAD.size
    head = json.loads(zlib.decompress(blob[a : a + na]))
    worst = head["worst"]
    if worst is not None and worst not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {worst!r}")
    skipped = [(str(p), str(r)) for p, r in head["skipped"]]
    part_b = blob[a + na : a + na + nb]
    text = blob[a + na + nb :].decode() if nc else None
    if text is not None and not (text.startswith("{") and text.endswith("}")):
        raise ValueError("cache row: not a JSON object")
    report: RunReport | None = None
    if head["report"]:
        if lazy:
            report = CachedRunReport(part_b, worst, head.get("facts"))
        else:
            report = _report_dec(json.loads(zlib.decompress(part_b)))
    return report, skipped, text


# --- the store ---------------------------------------------------------------------------------


#: keys per query of :meth:`ResultCache.get_many` (SQLite allows 32,766 parameters)
_SELECT_MANY = 500


class ResultCache:
    """Rows of results under keys (see the module docstring). Never raises on cache trouble:
    it warns once (``warn``) and goes on without the cache."""

    def __init__(self, directory: str | os.PathLike, fingerprint: str, *, warn=None):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self._warn = warn
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._pending: list[tuple[str, str, str | None, bytes]] = []
        self.hits = 0
        self.misses = 0

    # connection
    def _problem(self, what: str, err: BaseException) -> None:
        if not self._broken and self._warn is not None:
            self._warn(f"cache {self.directory}: {what} ({err}); going on without it")
        self._broken = True

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        path = self.directory / DB_NAME
        for attempt in (1, 2):
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(path, timeout=2.0, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS results ("
                    "key TEXT PRIMARY KEY, stamp TEXT NOT NULL, hashes TEXT, "
                    "data BLOB NOT NULL, created REAL NOT NULL)"
                )
                db.execute("SELECT count(*) FROM results WHERE key = ''").fetchone()
                self._db = db
                return db
            except sqlite3.DatabaseError as e:
                # not a database (a corrupt file): start a new one once
                if attempt == 1 and path.exists() and "locked" not in str(e):
                    try:
                        for suffix in ("", "-wal", "-shm"):
                            Path(str(path) + suffix).unlink(missing_ok=True)
                        continue
                    except OSError:
                        pass
                self._problem("cannot use the cache file", e)
                return None
            except OSError as e:
                self._problem("cannot create the cache folder", e)
                return None
        return None

    def key(self, identity: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{identity}".encode()).hexdigest()

    def get(self, key: str, st: Stamp, doubt: Sequence[int]) -> bytes | None:
        """The stored blob when the stamp matches (and the hashes of the files in doubt)."""
        return self.get_many([(key, st, doubt)])[0]

    def get_many(self, wanted: Sequence[tuple[str, Stamp, Sequence[int]]]) -> list[bytes | None]:
        """:meth:`get` for many keys (key, stamp, doubt) at once, in the same order: a few
        queries instead of one per run (a re-check of thousands of runs)."""
        out: list[bytes | None] = [None] * len(wanted)
        db = self._conn()
        if db is None or not wanted:
            return out
        rows: dict[str, tuple[str, str | None, bytes]] = {}
        keys = [w[0] for w in wanted]
        try:
            for i in range(0, len(keys), _SELECT_MANY):
                part = keys[i : i + _SELECT_MANY]
                marks = ",".join("?" * len(part))
                for key, stamp_text, hashes, data in db.execute(
                    f"SELECT key, stamp, hashes, data FROM results WHERE key IN ({marks})", part
                ):
                    rows[key] = (stamp_text, hashes, data)
        except sqlite3.Error as e:
            self._problem("cannot read the cache", e)
            return out
        for i, (key, st, doubt) in enumerate(wanted):
            row = rows.get(key)
            if row is None or row[0] != json.dumps(st):
                self.misses += 1
                continue
            stored = row[1]
            if doubt or stored:
                try:
                    want = json.loads(stored) if stored else {}
                except ValueError:
                    want = None
                # a file in doubt now or when stored: its content must be what was read
                files = {st[j][0] for j in doubt} | set(want or {})
                if want is None or any(want.get(f) != content_hash(f) for f in files):
                    self.misses += 1
                    continue
            self.hits += 1
            out[i] = bytes(row[2])
        return out

    def get_raw(self, key: str) -> bytes | None:
        """The blob stored under ``key`` whatever its stamp (its reader checks it itself)."""
        db = self._conn()
        if db is None:
            return None
        try:
            row = db.execute("SELECT data FROM results WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as e:
            self._problem("cannot read the cache", e)
            return None
        return None if row is None else bytes(row[0])

    def empty(self) -> bool:
        """Whether the cache holds no result yet (a first check), or cannot be used."""
        db = self._conn()
        if db is None:
            return True
        try:
            return db.execute("SELECT 1 FROM results LIMIT 1").fetchone() is None
        except sqlite3.Error:
            return True

    def put(self, key: str, st: Stamp, hashes: dict[str, str], blob: bytes) -> None:
        """Store ``blob`` (written in batches; :meth:`flush` writes the rest)."""
        if self._broken:
            return
        self._pending.append((key, json.dumps(st), json.dumps(hashes) if hashes else None, blob))
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        db = self._conn()
        if db is None or not rows:
            return
        now = time.time()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO results (key, stamp, hashes, data, created) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*r, now) for r in rows],
            )
            db.execute("COMMIT")
        except sqlite3.Error as e:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            self._problem("cannot write the cache", e)

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
