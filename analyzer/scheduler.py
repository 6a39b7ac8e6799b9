"""``check --scheduler``: the per-run tasks of :func:`analyzer.engine.check_stream` on Dask.

:class:`DaskPool` stands where the engine's local process pool stands: ``submit`` gives a future
with ``done()`` and ``result()`` (a ``distributed.Future``), ``map`` gives results in order, so
the engine's ordered window, chunks and cache work unchanged and the report is the same as
``-j 1``'s. The scheduler is

* ``processes``: a local Dask cluster (``distributed.LocalCluster``) of ``jobs`` single-threaded
  worker processes;
* ``threads``: a local Dask cluster of one worker process with ``jobs`` threads;
* an address (``tcp://HOST:8786``, ``HOST:8786``, ``tls://...``): an existing cluster, whose
  workers must run the same curvelint (checked: the hash of its code) and see the log folders at
  the same paths (checked per folder before any task is sent).

Dask (``pip install 'curvelint[dask]'``) is imported only here, and only when ``--scheduler``
is given.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import SchedulerError

EXTRA = "pip install 'curvelint[dask]'"
#: seconds to wait for a scheduler address to answer, and for a worker to join it
CONNECT_TIMEOUT = 10.0
LOCAL = ("processes", "threads")
_ADDRESS = re.compile(r"^([a-z][a-z0-9+]*://)?[^\s/:]+(:\d+)?/?$", re.IGNORECASE)


def _worker_code_hash() -> str:
    from .cache import code_hash

    return code_hash()


class DaskPool:
    """A Dask client (and its local cluster for ``processes``/``threads``); see the module
    docstring. ``code`` is this process's :func:`analyzer.cache.code_hash`."""

    def __init__(self, scheduler: str, jobs: int, code: str):
        self.scheduler = scheduler
        if scheduler not in LOCAL and not _ADDRESS.match(scheduler):
            raise SchedulerError(
                f"--scheduler {scheduler!r}: give processes, threads or the address of a Dask "
                "scheduler (tcp://HOST:8786)"
            )
        try:
            import distributed
        except ImportError:
            raise SchedulerError(
                f"--scheduler {scheduler}: needs Dask (dask and distributed): {EXTRA}"
            ) from None
        self._cluster: Any = None
        self._client: Any = None
        self._futures: list[Any] = []
        try:
            if scheduler in LOCAL:
                processes = scheduler == "processes"
                self._cluster = distributed.LocalCluster(
                    n_workers=jobs if processes else 1,
                    threads_per_worker=1 if processes else jobs,
                    processes=processes,
                    dashboard_address=":0",  # a free port: no clash with a running cluster
                    silence_logs=logging.ERROR,
                )
                self._client = distributed.Client(self._cluster, set_as_default=False)
            else:
                self._client = distributed.Client(
                    scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False
                )
                self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except SchedulerError:
            self.close()
            raise
        except Exception as e:
            self.close()
            what = " ".join(str(e).split()) or type(e).__name__
            raise SchedulerError(
                f"--scheduler {scheduler}: cannot reach the Dask scheduler or its workers "
                f"({type(e).__name__}: {what})"
            ) from None
        try:
            theirs = self._client.run(_worker_code_hash)
        except Exception as e:
            self.close()
            raise SchedulerError(
                f"--scheduler {scheduler}: the workers cannot run curvelint ({type(e).__name__}: "
                f"{e}); install the same curvelint on them"
            ) from None
        if any(h != code for h in theirs.values()):
            self.close()
            raise SchedulerError(
                f"--scheduler {scheduler}: the workers run other curvelint code than this one; "
                "install the same version on them (their results would differ)"
            )
        #: threads of the cluster: the engine's chunk size and tasks in flight follow it
        self.workers = max(1, sum(self._client.nthreads().values()))

    def check_folder(self, path: str | os.PathLike) -> None:
        """Raise SchedulerError unless every worker sees ``path`` (a log folder or file, or a
        remote folder's local mirror): the tasks read runs by their paths."""
        p = os.path.abspath(path)
        seen = self._client.run(os.path.exists, p)
        blind = sorted(w for w, ok in seen.items() if not ok)
        if blind:
            raise SchedulerError(
                f"--scheduler {self.scheduler}: worker(s) {', '.join(blind)} cannot see {p}; "
                "the workers must see the log folders at the same path (shared storage)"
            )

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        fut = self._client.submit(fn, *args, pure=False)
        self._futures.append(fut)
        if len(self._futures) > 1024:
            self._futures = [f for f in self._futures if not f.done()]
        return fut

    def map(self, fn: Callable[..., Any], items: Iterable[Any]) -> list[Any]:
        futures = [self._client.submit(fn, x, pure=False) for x in items]
        return list(self._client.gather(futures))

    def close(self, cancel: bool = False) -> None:
        if self._client is not None:
            if cancel and self._futures:
                pending = [f for f in self._futures if not f.done()]
                if pending:
                    with contextlib.suppress(Exception):
                        self._client.cancel(pending)
            self._futures = []
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
