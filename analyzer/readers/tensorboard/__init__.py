"""TensorBoard event files (``events.out.tfevents.*``): the batch reader and the tail API.

Modules:

* :mod:`.framing` — TFRecord framing: walk the records of a file, verify checksums, resync.
* :mod:`.decode` — ``Event`` records -> scalar rows (:mod:`.events` is the protobuf reference;
  :mod:`.layout`, :mod:`.scan` and :mod:`.groups` are the vectorised fast path).
* :mod:`.reader` — the batch reader (:func:`read`, the registry's entry point): file order, tags,
  ``SessionLog.START`` restarts, the plugin filter, the canonical frame.
"""

from __future__ import annotations

from .reader import (
    FORMAT,
    FileResult,
    assemble,
    file_order_key,
    prefixed_tag,
    read,
    read_file,
)

__all__ = [
    "FORMAT",
    "FileResult",
    "assemble",
    "file_order_key",
    "prefixed_tag",
    "read",
    "read_file",
]
