"""Configuration: ``[tool.curvelint]`` in pyproject.toml, or curvelint.toml (same keys, top level).

Keys (the same names as the command-line options):

    select = ["PLT", "OVF001"]      # rule codes or prefixes
    ignore = ["LRS001"]
    fail-on = "warning"             # info | warning | error
    train-loss = "loss/train"       # role overrides
    val-loss = "loss/val"

    [tool.curvelint.rules.OVF001]   # per-rule options, by code or name
    min_rise = 3.0

The nearest file from the current folder upwards is used; ``--config FILE`` names one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KNOWN_KEYS = {"select", "ignore", "fail-on", "train-loss", "val-loss", "rules", "format"}


class ConfigError(Exception):
    pass


def find_config(start: Path | None = None) -> Path | None:
    d = (start or Path.cwd()).resolve()
    for folder in (d, *d.parents):
        c = folder / "curvelint.toml"
        if c.is_file():
            return c
        p = folder / "pyproject.toml"
        if p.is_file():
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue
            if "curvelint" in data.get("tool", {}):
                return p
    return None


def load_config(path: Path | None) -> dict[str, Any]:
    """Read and validate a config file; {} when path is None."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such config file") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    if Path(path).name == "pyproject.toml":
        data = data.get("tool", {}).get("curvelint", {})
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_KEYS))}"
        )
    for key in ("select", "ignore"):
        if key in data:
            v = data[key]
            if isinstance(v, str):
                data[key] = [s.strip() for s in v.split(",") if s.strip()]
            elif not (isinstance(v, list) and all(isinstance(s, str) for s in v)):
                raise ConfigError(f"{path}: {key} must be a list of rule codes")
    if "fail-on" in data and data["fail-on"] not in ("info", "warning", "error"):
        raise ConfigError(
            f"{path}: fail-on must be info, warning or error, not {data['fail-on']!r}"
        )
    rules = data.get("rules", {})
    if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
        raise ConfigError(f"{path}: [rules.CODE] tables hold per-rule options")
    data["_path"] = str(path)
    return data
