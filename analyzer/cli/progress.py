"""The progress bar of ``curvelint check`` on stderr: only on a terminal, not with ``-q``.

Drawn by ``tqdm`` when it is installed (an optional dependency), else as one line rewritten in
place. Shown once a check has taken a second, so that short checks print nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any

#: seconds before the bar appears
DELAY = 1.0


class _Null:
    def update(self, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Line:
    """``checked 1,234/10,000 runs`` rewritten in place, at most ten times a second."""

    def __init__(self, stream: Any):
        self.stream = stream
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.start < DELAY or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        self.shown = True
        self.stream.write(f"\r\x1b[Kcurvelint: checked {done:,}/{total:,} runs")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class _Tqdm:
    def __init__(self, tqdm: Any, stream: Any):
        # no monitor thread: check_stream may fork worker processes after the bar exists
        tqdm.monitor_interval = 0
        self.bar = tqdm(
            total=0, unit="run", desc="curvelint", file=stream, delay=DELAY, leave=False
        )

    def update(self, done: int, total: int) -> None:
        if self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def progress_bar(enabled: bool = True, stream: Any = None) -> Any:
    """An object with ``update(done, total)`` and ``close()``; a no-op one when disabled or
    when ``stream`` (stderr) is not a terminal."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if not enabled or isatty is None or not isatty():
        return _Null()
    try:
        from tqdm import tqdm  # optional
    except ImportError:
        return _Line(stream)
    return _Tqdm(tqdm, stream)
