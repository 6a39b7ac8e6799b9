"""TensorBoard event files (``events.out.tfevents.*``): the batch reader and the tail API.

Modules:

* :mod:`.names` — the order of a folder's event files (:func:`file_order_key`, also used by
  discovery) and the tag names of files in sub-folders (:func:`prefixed_tag`).
* :mod:`.framing` — TFRecord framing: walk the records of a file, verify checksums, resync.
* :mod:`.decode` — ``Event`` records -> scalar rows (:mod:`.events` is the protobuf reference;
  :mod:`.layout`, :mod:`.scan` and :mod:`.groups` are the vectorised fast path).
* :mod:`.reader` — the batch reader (:func:`read`, the registry's entry point): file order, tags,
  ``SessionLog.START`` restarts, the plugin filter, the canonical frame.
* :mod:`.tail` — the tail API (:class:`EventTail`, :func:`tail_frame`): follow files that are still
  being written, with the batch reader's rules (used by ``curvelint watch``).

Importing this package is light (discovery imports :func:`file_order_key`): the other public names
load their module (numpy, pandas, protobuf) when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from .names import file_order_key, prefixed_tag

# public name -> module that defines it (imported on first use)
_LAZY = {
    "FORMAT": "reader",
    "READS_TABLE": "reader",
    "FileResult": "reader",
    "assemble": "reader",
    "read": "reader",
    "read_file": "reader",
    "EventTail": "tail",
    "TailFrame": "tail",
    "TailPoll": "tail",
    "tail_frame": "tail",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["file_order_key", "prefixed_tag", *_LAZY]
