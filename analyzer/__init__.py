"""curvelint: static analysis of deep-learning training curves.

The Python API (imported lazily so that ``import analyzer`` and ``curvelint --help`` stay fast):
``check(paths)``, ``check_frame(df)``, ``check_lists(train, val)``, ``Monitor`` and ``Report``;
bad options raise ``OptionsError`` (a ValueError).
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "check": ("analyzer.engine", "check"),
    "check_frame": ("analyzer.api", "check_frame"),
    "check_lists": ("analyzer.api", "check_lists"),
    "Monitor": ("analyzer.monitor", "Monitor"),
    "Report": ("analyzer.findings", "Report"),
    "Finding": ("analyzer.findings", "Finding"),
    "OptionsError": ("analyzer.errors", "OptionsError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
