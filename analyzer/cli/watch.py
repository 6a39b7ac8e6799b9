"""``curvelint watch LOGDIR``: the command line around :class:`analyzer.watch.Watcher` (which
follows the log folder): the parser, the finding lines, ``--on-finding`` hooks and ``--html``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..findings import step_range
from .common import EXIT_OK, OverrideCheck, UsageError, load_options, single_threaded_blas

if TYPE_CHECKING:
    from ..findings import Finding
    from ..watch import Watcher


def format_finding(f: Finding) -> str:
    steps = step_range(f.start_step, f.end_step, label=True)
    where = f" {steps}" if steps else ""
    curve = f" [{f.curve}]" if f.curve else ""
    from ..report.text import escape_controls

    return escape_controls(f"{f.run}: {f.code} {f.severity} {f.name}{curve}{where}: {f.message}")


def format_resolved(f: Finding) -> str:
    from ..report.text import escape_controls

    curve = f" [{f.curve}]" if f.curve else ""
    return escape_controls(f"{f.run}: {f.code} resolved {f.name}{curve}: no longer found")


def live_page(html: str, interval: float) -> str:
    """The report page made to reload itself every ``interval`` seconds (at least 2): a browser
    left open on it follows the run."""
    meta = f'<meta http-equiv="refresh" content="{max(2, round(interval))}">'
    head = html.find("<head>")
    if head < 0:
        return meta + html
    return html[: head + 6] + meta + html[head + 6 :]


def run_hook(cmd: str, f: Finding, err: Callable[[str], None]) -> None:
    """Run ``cmd`` with the finding as JSON on stdin; problems are reported, never raised."""
    import subprocess

    doc = {"run": f.run, **f.to_dict()}
    env = {
        **os.environ,
        "CURVELINT_RUN": f.run,
        "CURVELINT_CODE": f.code,
        "CURVELINT_SEVERITY": f.severity,
    }
    try:
        res = subprocess.run(
            cmd, shell=True, input=json.dumps(doc), text=True, env=env, timeout=60, check=False
        )
        if res.returncode:
            err(f"--on-finding command exited with status {res.returncode} for {f.code}")
    except (OSError, subprocess.TimeoutExpired) as e:
        err(f"--on-finding command failed for {f.code}: {e}")


def write_html(
    watcher: Watcher, path: str, err: Callable[[str], None], interval: float | None = None
) -> bool:
    try:
        from ..report.html import render_html
    except ImportError:
        err("--html: the HTML report is not available in this installation")
        return False
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    page = render_html(watcher.report(), watcher.load_result())
    if interval is not None:
        page = live_page(page, interval)
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)  # readers of the file never see half a page
    return True


def add_watch_parser(sub) -> None:
    """Register ``curvelint watch`` on the CLI's sub-parsers."""
    p = sub.add_parser(
        "watch",
        help="follow a live log folder and report findings as they appear",
        description="Follow LOGDIR while training runs write to it: every poll reads what was "
        "appended, re-runs the rules on runs that changed and prints each finding once it "
        "counts (a passing state — plateau, swings, a bump of the validation loss — only once "
        "two polls in a row show it, a plateau not before 10 points; 'train longer' not at all "
        "while the run goes on), again when it gets worse, and a "
        "'resolved' line when it went away. Ctrl-C or SIGTERM stops (exit 0) with a summary.",
    )
    p.add_argument("logdir", metavar="LOGDIR", help="log folder (or file) to follow")
    p.add_argument(
        "--interval", type=float, default=5.0, metavar="S", help="seconds between polls (5)"
    )
    p.add_argument("--once", action="store_true", help="poll once, print, exit")
    p.add_argument(
        "--html",
        metavar="FILE",
        help="rewrite an HTML report after each change (the page reloads itself every interval)",
    )
    p.add_argument(
        "--on-finding",
        metavar="CMD",
        help="shell command run per new finding, with the finding as JSON on stdin",
    )
    p.add_argument("--format", choices=["text", "json"], default="text", help="finding lines")
    p.add_argument("--select", metavar="CODES", help="comma-separated rule codes or prefixes")
    p.add_argument("--ignore", metavar="CODES", help="comma-separated rule codes or prefixes")
    p.add_argument("--train-loss", metavar="TAG", help="tag to use as the training loss")
    p.add_argument("--val-loss", metavar="TAG", help="tag to use as the validation loss")
    p.add_argument("--max-polls", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--config", metavar="FILE", help="config file (as for check)")
    p.add_argument("--no-config", action="store_true", help="ignore config files")
    p.set_defaults(func=cmd_watch)


def cmd_watch(args) -> int:
    single_threaded_blas()  # before the engine imports numpy
    from ..watch import Watcher

    options, _ = load_options(args)
    watcher = Watcher(args.logdir, options)
    if args.interval <= 0:
        raise UsageError("--interval must be positive")

    def err(msg: str) -> None:
        from ..report.text import escape_controls

        print(escape_controls(f"curvelint: {msg}"), file=sys.stderr, flush=True)

    if not Path(args.logdir).exists():
        if args.once:
            raise UsageError(f"no such file or folder: {args.logdir}")
        err(f"waiting for {args.logdir} to appear")
    n_found = 0
    polls = 0
    warned = False

    def stop(signum, frame):  # SIGTERM (kill, a job scheduler) ends like Ctrl-C
        raise KeyboardInterrupt

    import signal

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        while True:
            new = watcher.poll()
            polls += 1
            for f in new:
                n_found += 1
                if args.format == "json":
                    print(json.dumps({"run": f.run, **f.to_dict()}), flush=True)
                else:
                    print(format_finding(f), flush=True)
                if args.on_finding:
                    run_hook(args.on_finding, f, err)
            for f in watcher.resolved:
                if args.format == "json":
                    print(json.dumps({"run": f.run, "resolved": True, **f.to_dict()}), flush=True)
                else:
                    print(format_resolved(f), flush=True)
            if not warned and watcher.changed:
                # a --train-loss/--val-loss no run has: an error for --once (as for check),
                # else said once (a live run may log that tag later)
                overrides = OverrideCheck(options)
                for state in watcher.states.values():
                    if state.report is not None:
                        overrides.add(state.report)
                try:
                    overrides.finish()
                except UsageError as e:
                    if args.once:
                        raise
                    err(f"{e}; still watching")
                    warned = True
            if args.html and (watcher.changed or polls == 1):
                write_html(watcher, args.html, err, None if args.once else args.interval)
            if args.once or (args.max_polls is not None and polls >= args.max_polls):
                break
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    runs = len([s for s in watcher.states.values() if s.run is not None])
    err(f"watched {runs} run(s), {n_found} finding(s) reported")
    return EXIT_OK
