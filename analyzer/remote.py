"""Remote log folders (``s3://``, ``gs://``, ``memory://``: any fsspec URL), checked through a
local mirror, so that discovery and the readers, which work on local paths, stay as they are.

:func:`open_mirror` lists the remote folder once (fsspec's ``find``, one listing, no reads) and
lays the listing out under ``<folder>/<hash of the URL>/tree/<name>``, ``<name>`` being the remote
folder's own name (a run that is the folder itself is named by it, as a local folder's run is):
every remote file gets a local file at the same relative path. Until its contents are needed that local file is an empty
stand-in (discovery only looks at names and sizes of most files). :meth:`Mirror.fetch` downloads
the files whose contents are about to be looked at -- the table candidates discovery sniffs, the
files of each discovered run and the side files beside them -- into the tree. ``manifest.json``
beside the tree records each copy's remote version (size and ETag, or modification time where
the store keeps no ETag): a file whose version has not changed since an earlier check is not
downloaded again, and a file that changed or vanished is replaced or removed at the next
listing. Hidden names (``.x``, which discovery never enters) and names that cannot be stored
locally (``..``, empty parts, a file and a folder of the same name) are not mirrored.

The remote is only listed and read, never written. What the user sees names the URL, never the
mirror: :meth:`Mirror.display` turns the tree's local path back into the URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import RemoteError

#: how the extra is installed (named in error messages)
EXTRA = "pip install 'curvelint[remote]'"
#: fsspec protocols curvelint's extra does not bring, and the package that does
_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "hf": "huggingface_hub",
}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
#: keys of an fsspec ``info`` that change when a file's content does, most telling first
_VERSION_KEYS = (
    "ETag",
    "etag",
    "md5Hash",
    "generation",
    "LastModified",
    "last_modified",
    "mtime",
    "updated",
    "created",
)
MANIFEST = "manifest.json"


def is_remote(path: Any) -> bool:
    """``path`` is a URL with a protocol (``s3://...``), not a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def _protocol(url: str) -> str:
    m = _URL.match(url)
    return m.group(1).lower() if m else ""


def _fix(url: str) -> str:
    proto = _protocol(url)
    pkg = _PACKAGES.get(proto)
    if proto in ("s3", "s3a"):
        return EXTRA
    if pkg:
        return f"pip install {pkg}"
    return EXTRA


def _filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path in it. Raises RemoteError."""
    try:
        import fsspec
    except ImportError:
        raise RemoteError(f"{url}: reading a remote log folder needs fsspec: {EXTRA}") from None
    proto = _protocol(url)
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as e:
        pkg = _PACKAGES.get(proto, "the package of that protocol")
        raise RemoteError(
            f"{url}: {proto}:// needs {pkg}, which is not installed ({_fix(url)}): {e}"
        ) from None
    except ValueError as e:
        raise RemoteError(f"{url}: fsspec does not know the protocol {proto}:// ({e})") from None
    except Exception as e:
        raise RemoteError(f"{url}: {_explain(e)}") from None


def _explain(e: BaseException) -> str:
    """One line for an error of a file system (botocore's are recognised by their names, so
    that botocore is not imported here)."""
    name = type(e).__name__
    text = " ".join(str(e).split()) or name
    if name in ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError"):
        return (
            f"no credentials found ({text}); set them as the store's client expects (for S3: "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials; "
            "a public bucket: FSSPEC_S3_ANON=true)"
        )
    if isinstance(e, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return f"access denied ({text}); check the credentials and the bucket's permissions"
    if isinstance(e, FileNotFoundError):
        return "no such bucket or folder"
    return f"cannot list it ({name}: {text})"


def _version(info: dict[str, Any]) -> list[Any]:
    tag = next((info[k] for k in _VERSION_KEYS if info.get(k) not in (None, "")), "")
    return [int(info.get("size") or 0), str(tag)]


def _folder_name(path: str) -> str:
    """The local name of the remote folder ``path`` (its last part; ``run`` for a store's root,
    as for a local root folder)."""
    name = path.rstrip("/").rpartition("/")[2]
    return name if name not in ("", ".", "..") and "\0" not in name else "run"


def _storable(rel: str) -> bool:
    parts = rel.split("/")
    return all(p not in ("", ".", "..") and not p.startswith(".") and "\0" not in p for p in parts)


class Mirror:
    """The local stand-in of one remote folder (or file); see the module docstring."""

    def __init__(self, url: str, folder: Path):
        self.url = url
        self.fs, self.root = _filesystem(url)
        proto = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        canonical = f"{proto}://{self.root.rstrip('/')}"
        self.home = Path(folder) / hashlib.sha256(canonical.encode()).hexdigest()[:24]
        #: everything mirrored lives under ``area``; the URL's folder is ``area/<its name>``
        self.area = self.home / "tree"
        self._folder = ""  # the remote folder (of a file URL: the file's folder)
        #: relative path -> (remote path, remote version)
        self.files: dict[str, tuple[str, list[Any]]] = {}
        #: relative path -> version of the local copy
        self.have: dict[str, list[Any]] = {}
        #: (path relative to the URL, reason) of remote files not mirrored or not downloaded
        self.skipped: list[tuple[str, str]] = []
        self.downloads = 0
        self._list()
        # the folder is named as the remote folder is: a run that is the folder itself takes
        # its name from it, as a local folder's run does (not from the mirror's layout)
        self.tree = self.area / _folder_name(self._folder)
        self._load_manifest(canonical)
        self._lay_out()
        #: what discovery is given: the tree, or the one file of a file URL
        self.local = self.tree / self._single if self._single else self.tree
        #: the local path and the URL it stands for (a file URL: its folder's too)
        self._names = [(str(self.local), self.url.rstrip("/"))]
        if self._single:
            self._names.append((str(self.tree), self.url.rstrip("/").rpartition("/")[0]))

    # --- listing and layout -------------------------------------------------------------------
    def _list(self) -> None:
        fs, root = self.fs, self.root.rstrip("/")
        self._single = ""
        try:
            fs.invalidate_cache()  # a long-lived process must see the remote as it is now
            info = fs.info(root)
            if info.get("type") == "file":
                name = root.rpartition("/")[2]
                self._single = name
                found = {root: info}
                prefix = root[: -len(name)]
                self._folder = prefix.rstrip("/")
            else:
                found = fs.find(root, detail=True, withdirs=False)
                prefix = root + "/"
                self._folder = root
        except Exception as e:
            raise RemoteError(f"{self.url}: {_explain(e)}") from None
        for path, info in sorted(found.items()):
            path = path.rstrip("/")
            if not path.startswith(prefix) or info.get("type", "file") != "file":
                continue
            rel = path[len(prefix) :]
            if not _storable(rel):
                if not any(p.startswith(".") for p in rel.split("/")):
                    self.skipped.append((rel, "a name that cannot be stored locally: not read"))
                continue
            self.files[rel] = (path, _version(info))

    def _load_manifest(self, canonical: str) -> None:
        try:
            data = json.loads((self.home / MANIFEST).read_text(encoding="utf-8"))
            if data.get("url") == canonical and isinstance(data.get("files"), dict):
                self.have = {k: v for k, v in data["files"].items() if isinstance(v, list)}
        except (OSError, ValueError, AttributeError):
            self.have = {}
        self._canonical = canonical

    def _save_manifest(self) -> None:
        tmp = self.home / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps({"url": self._canonical, "files": self.have}), encoding="utf-8")
        os.replace(tmp, self.home / MANIFEST)

    def _lay_out(self) -> None:
        """Make the tree hold exactly the listing: copies of an unchanged version are kept,
        everything else becomes an empty stand-in; what the remote no longer has is removed."""
        tree = str(self.tree) + os.sep
        for dp, dns, fns in os.walk(self.area, topdown=False):
            for fn in fns:
                found = os.path.join(dp, fn)
                rel = found[len(tree) :].replace(os.sep, "/") if found.startswith(tree) else ""
                if rel not in self.files:
                    os.unlink(found)
                    self.have.pop(rel, None)
            for dn in dns:
                d = os.path.join(dp, dn)
                if os.path.islink(d):
                    os.unlink(d)
                else:
                    with contextlib.suppress(OSError):
                        os.rmdir(d)  # only when empty
        try:  # after the clean-up, which removes empty folders
            self.tree.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RemoteError(
                f"{self.url}: cannot create the local copy under {self.home} ({e}); "
                "set another cache folder (--cache-dir or CURVELINT_CACHE_DIR)"
            ) from None
        for rel in list(self.files):
            p = self.tree / rel
            version = self.files[rel][1]
            try:
                if self.have.get(rel) == version and p.is_file() and p.stat().st_size == version[0]:
                    continue
                self.have.pop(rel, None)
                if p.is_dir():
                    shutil.rmtree(p)
                p.parent.mkdir(parents=True, exist_ok=True)
                if not p.is_file() or p.stat().st_size:
                    p.write_bytes(b"")
                if version[0] == 0:  # an empty remote file: the stand-in is its copy
                    self.have[rel] = version
            except OSError as e:
                self.files.pop(rel)
                self.have.pop(rel, None)
                self.skipped.append((rel, f"cannot be stored locally ({e}): not read"))
        self._save_manifest()

    # --- downloads --------------------------------------------------------------------------
    def fetch(self, paths: Iterable[str | os.PathLike]) -> None:
        """Download those of ``paths`` (local paths in the tree) whose local copy is not of the
        remote's listed version. A file that cannot be downloaded is removed from the tree (the
        readers then say it is missing) and listed in :attr:`skipped`."""
        tree = str(self.tree) + os.sep
        todo: list[str] = []
        for p in paths:
            s = os.fspath(p)
            if not s.startswith(tree):
                continue
            rel = s[len(tree) :].replace(os.sep, "/")
            entry = self.files.get(rel)
            if entry is not None and self.have.get(rel) != entry[1] and rel not in todo:
                todo.append(rel)
        if not todo:
            return
        part = self.home / "part"
        part.mkdir(exist_ok=True)
        remote = [self.files[r][0] for r in todo]
        local = [str(part / str(i)) for i in range(len(todo))]
        failed: dict[str, str] = {}
        try:
            self.fs.get(remote, local)
        except Exception:  # one by one, to say which file failed
            for r, rp, lp in zip(todo, remote, local, strict=True):
                try:
                    self.fs.get(rp, lp)
                except Exception as e:
                    failed[r] = _explain(e)
        for r, lp in zip(todo, local, strict=True):
            target = self.tree / r
            if r not in failed:
                try:
                    got = os.stat(lp).st_size
                except OSError:
                    failed[r] = "not downloaded"
                else:
                    os.replace(lp, target)
                    self.downloads += 1
                    if got == self.files[r][1][0]:
                        self.have[r] = self.files[r][1]
                    continue  # else changed since it was listed: fetched again next time
            target.unlink(missing_ok=True)
            self.skipped.append((r, f"could not be downloaded from {self.url}: {failed[r]}"))
        self._save_manifest()

    def tree_files(self) -> list[Path]:
        """The local paths of every mirrored file."""
        return [self.tree / rel for rel in self.files]

    # --- what the user sees -------------------------------------------------------------------
    def display(self, text: str) -> str:
        """``text`` with the tree's local path replaced by the URL."""
        for local, url in self._names:
            if local in text:
                text = text.replace(local, url)
        return text

    def display_json(self, text: str) -> str:
        """:meth:`display` for JSON text (paths as JSON escapes them)."""
        for local, url in self._names:
            a, b = json.dumps(local)[1:-1], json.dumps(url)[1:-1]
            if a in text:
                text = text.replace(a, b)
        return text


def open_mirror(url: str, folder: str | os.PathLike) -> Mirror:
    """List the remote folder or file ``url`` and lay out its local mirror under ``folder``
    (one sub-folder per URL). Raises :class:`analyzer.errors.RemoteError` (one line naming the
    URL and the fix) when fsspec or the protocol's package is missing, or the URL cannot be
    listed (no such bucket or folder, no credentials, access denied)."""
    return Mirror(url, Path(folder))
