"""Hyper-parameters from side files: YAML (Lightning ``hparams.yaml``, Ultralytics ``args.yaml``,
MLflow ``meta.yaml``) and JSON configs next to a log, and MLflow's one-value ``params/`` files.

YAML is parsed by PyYAML's safe loader, extended in two ways so that values come out as they did
with curvelint's former hand-written parser:

* Tags it does not know (``!!python/tuple``, ``!!python/object:...`` as Lightning writes for
  arguments that are not plain values) do not make the file unreadable: the tagged node is read as
  the plain mapping, list or string under the tag.
* A plain (unquoted) scalar that YAML 1.1 leaves a string but Python reads as a number is a number:
  ``1e-3`` (YAML 1.1 wants ``1.0e-3``), ``inf``, ``nan``. Quoted strings stay strings.

A file that is not valid YAML raises :class:`YamlError`, whose message names the file and the
place; the readers note it and go on without those hyper-parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from .base import ReadResult

SIDE_FILE_MAX_BYTES = 1024 * 1024  # hparams side files larger than this are not configs

_NULLS = ("", "~", "null", "Null", "NULL")
_TRUE = ("true", "True", "TRUE", "yes")
_FALSE = ("false", "False", "FALSE", "no")


class YamlError(ValueError):
    """A side file is not valid YAML; the message says which file and where."""


def _untagged(loader: Any, suffix: str, node: Any) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return _plain_str(loader, node)  # neither mapping nor sequence: a scalar


def _plain_str(loader: Any, node: Any) -> Any:
    text = loader.construct_scalar(node)
    if not node.style:  # plain, not quoted (PyYAML says None, its libyaml parser "")
        return _number(text, text)
    return text


def _number(text: str, default: Any) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return default


def flatten(d: Any, sep: str = ".", prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into ``{"a.b": v}``; lists and scalars are kept as values."""
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}{sep}{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.update(flatten(v, sep, key))
            else:
                out[key] = v
    elif prefix:
        out[prefix] = d
    return out


@cache
def _loader() -> type:
    """The safe loader, plus: unknown tags read as plain nodes, number-like plain strings as
    numbers (see the module docstring). Made at the first YAML file: PyYAML is imported only
    by a run that has one."""
    import yaml

    return _with_our_constructors(yaml.SafeLoader)


def _with_our_constructors(base: type) -> type:
    """A subclass of the YAML loader ``base`` with this module's constructors: number-like
    plain strings as numbers, unknown tags as plain nodes."""

    class Loader(base):
        pass

    Loader.add_constructor("tag:yaml.org,2002:str", _plain_str)
    Loader.add_multi_constructor("!", _untagged)
    Loader.add_multi_constructor("tag:", _untagged)
    return Loader


_PRINTABLE_ASCII = re.compile(r"[\n\x20-\x7e]*")


def _libyaml_safe(text: str) -> bool:
    """Whether libyaml and PyYAML read ``text`` alike (tested on damaged copies of every YAML
    fixture): printable ASCII and newlines only (libyaml accepts tabs and control characters
    where PyYAML refuses them), and too small or flat for PyYAML's recursion limit (at most
    16 KiB, so at most ~180 levels of indentation, and 64 brackets: libyaml reads nesting
    several hundred deep that makes PyYAML raise RecursionError)."""
    return (
        len(text) <= 16384
        and text.count("[") + text.count("{") <= 64
        and text.isascii()
        and _PRINTABLE_ASCII.fullmatch(text) is not None
    )


@cache
def _c_loader() -> type | None:
    """:func:`_loader` on libyaml's parser (8x faster on a small file), when PyYAML has it."""
    import yaml

    if not getattr(yaml, "__with_libyaml__", False):
        return None
    return _with_our_constructors(yaml.CSafeLoader)


def parse_yaml(text: str, name: str = "<text>") -> dict[str, Any]:
    """A YAML document as a dict (``{}`` when the document is not a mapping); raises
    :class:`YamlError` naming ``name`` when the text is not valid YAML.

    libyaml's parser reads it when PyYAML has it and the text is printable ASCII; any error
    there, and any other text, goes to PyYAML's pure-Python parser, whose messages (and
    verdict) are the ones reported."""
    import yaml

    fast = _c_loader()
    if fast is not None and _libyaml_safe(text):
        try:
            data = yaml.load(text, Loader=fast)
        except Exception:  # noqa: BLE001 - the pure-Python parser below decides and says why
            pass
        else:
            return data if isinstance(data, dict) else {}
    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(e, "problem", None) or type(e).__name__
        raise YamlError(f"{name}: not valid YAML{where} ({problem})") from None
    return data if isinstance(data, dict) else {}


def load_yaml(path: Path) -> dict[str, Any]:
    """Load a small YAML file as a dict (see :func:`parse_yaml`)."""
    path = Path(path)
    return parse_yaml(path.read_text(encoding="utf-8", errors="replace"), path.name)


def param_value(text: str) -> Any:
    """The value of an MLflow ``params/`` file (``str(value)`` of what was logged): a number,
    ``True``/``False`` (``true``/``yes``/``false``/``no`` too), ``None`` for an empty or null
    value, else the text as it is."""
    if "\n" in text:
        return text
    s = text.strip()
    if s in _NULLS:
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return _number(s, text)


def unwrap_wandb(data: dict[str, Any]) -> dict[str, Any]:
    """A W&B ``config.yaml`` (``key: {desc: ..., value: ...}`` per setting, plus W&B's own
    ``_wandb`` and ``wandb_version``) as plain ``key: value``; any other mapping unchanged."""
    entries = {k: v for k, v in data.items() if k not in ("_wandb", "wandb_version")}
    if not entries or not all(
        isinstance(v, dict) and "value" in v and set(v) <= {"desc", "value"}
        for v in entries.values()
    ):
        return data
    return {k: v["value"] for k, v in entries.items()}


def read_sidecar_hparams(folder: Path, names: Iterable[str], result: ReadResult) -> None:
    """Merge the first existing side file of ``names`` (YAML or JSON) in ``folder`` into hparams."""
    for name in names:
        p = Path(folder) / name
        if not p.is_file():
            continue
        if p.stat().st_size > SIDE_FILE_MAX_BYTES:
            result.notes.append(
                f"{name}: larger than {SIDE_FILE_MAX_BYTES // 1024} KiB, not read for hyperparameters"
            )
            continue
        try:
            if p.suffix == ".json":
                data = json.loads(p.read_text(encoding="utf-8", errors="replace"))
                data = data if isinstance(data, dict) else {}
            else:
                data = load_yaml(p)
        except YamlError as e:
            result.notes.append(f"{e}; hyperparameters not read")
            continue
        except Exception as e:
            result.notes.append(f"{name}: could not be read ({type(e).__name__}: {e})")
            continue
        flat = flatten(unwrap_wandb(data))
        for k, v in flat.items():
            result.hparams.setdefault(k, v)
        result.notes.append(f"{len(flat)} hyperparameter(s) read from {name}")
        return


# --- hyper-parameters in run folder names ---------------------------------------------------
# ``lr=0.1_bs=32``, ``lr=0.1,bs=32`` (Hydra multirun), ``trial_3_batch_size=32,lr=0.001_2024-...``
# (Ray Tune), ``lr0.1-bs32``. A key is words joined by ``_``, each starting with a letter (so
# that an id such as ``a1b2c_00003`` is not taken for part of a key).
_SEP = r"(?:^|(?<=[_,;+\s-]))"
_END = r"(?=$|[_,;+\s-])"
_KEY = r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z][A-Za-z0-9]*)*"
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_EQ_PART = re.compile(_SEP + rf"({_KEY})=({_NUM}|[A-Za-z][A-Za-z0-9.]*)" + _END)
_GLUED_PART = re.compile(_SEP + r"([A-Za-z]+)((?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)" + _END)
# the names that, glued to a number, are read as a setting (``lr0.1``, ``bs32``, ``wd1e-4``):
# a short list of common ones, because a word glued to a number is more often part of a name
# (``resnet50``, ``run3``, ``Nov30``, ``shapes16``, ``s42``) than a setting
GLUED_KEYS = frozenset(
    (
        "lr", "bs", "batch", "wd", "mom", "momentum", "dropout", "drop", "depth", "width",
        "layers", "nlayers", "hidden", "heads", "dim", "emb", "epochs", "ep", "warmup", "seed",
        "clip", "beta", "eps", "temp", "decay", "accum", "patience",
    )
)  # fmt: skip


def name_hparams(run_id: str) -> dict[str, Any]:
    """The settings spelled in a run's folder names (each part of ``run_id``, the deeper part
    winning): ``key=value`` parts (``lr=0.1_bs=32``; a value is a number or a word) and, in a
    part without any, ``key<number>`` parts whose key is one of :data:`GLUED_KEYS`
    (``lr0.1-bs32``, ``cnn-adam-lr0.03-s62`` gives ``lr`` only). Values are numbers where they
    read as one. A key is the
    words joined by ``_`` before ``=``: ``mnist_lr=0.1`` reads as ``mnist_lr``, ``mnist-lr=0.1``
    as ``lr``."""
    out: dict[str, Any] = {}
    for part in run_id.replace("\\", "/").split("/"):
        found = {k: param_value(v) for k, v in _EQ_PART.findall(part)}
        if not found:
            found = {
                k: param_value(v) for k, v in _GLUED_PART.findall(part) if k.lower() in GLUED_KEYS
            }
        out.update(found)
    return out
