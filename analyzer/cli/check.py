"""``curvelint check``, ``curvelint rules``, ``curvelint rule CODE``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    OverrideCheck,
    UsageError,
    add_path_arguments,
    check_output,
    check_paths,
    copy_output,
    load_options,
    single_threaded_blas,
    write_output,
)


def add_check_parsers(sub) -> None:
    p = sub.add_parser(
        "check",
        help="diagnose the runs: plateau, oscillation, overfitting, divergence",
        description="Diagnose every run under PATH. Exit 0 when no finding reaches --fail-on, "
        "1 when one does, 2 for usage errors, when nothing could be read, or when --scheduler or "
        "a remote folder cannot be used.",
    )
    add_path_arguments(p, urls=True)
    p.add_argument(
        "--format",
        choices=["text", "json", "html"],
        default=None,
        help="output format (default: text)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the report to FILE (default: standard output; for --format html, "
        "curvelint-report.html in the current folder, replacing one already there)",
    )
    p.add_argument(
        "--select", metavar="CODES", help="comma-separated rule codes or prefixes to run"
    )
    p.add_argument(
        "--ignore", metavar="CODES", help="comma-separated rule codes or prefixes to skip"
    )
    p.add_argument(
        "--fail-on",
        choices=["info", "warning", "error"],
        default=None,
        help="lowest severity that makes the exit status 1 (default: warning)",
    )
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when findings reach --fail-on (usage errors still exit 2)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: nearest curvelint.toml or pyproject.toml "
        "with [tool.curvelint])",
    )
    p.add_argument("--no-config", action="store_true", help="ignore config files")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the run's remedy list, with code for its framework, and reader notes",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes (default and at most: the cores this process may use, and no "
        "more than the runs to check; 1 checks in this process); with --scheduler "
        "processes/threads, the Dask workers/threads",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the runs as Dask tasks (needs curvelint[dask]): processes or threads for a "
        "local Dask cluster of -j workers, or a scheduler address (tcp://HOST:8786) whose "
        "workers see the log folders at the same paths; the report is the same",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither use nor update the result cache (unchanged runs are otherwise not "
        "read again)",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="result cache folder (default: $CURVELINT_CACHE_DIR, else the platform's cache "
        "folder, e.g. ~/.cache/curvelint); also holds the local copies of remote folders",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar (it shows only on a terminal)"
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rules", help="list the rules")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("rule", help="print one rule's documentation")
    p.add_argument("code", metavar="CODE", help="rule code (e.g. OVF001) or name")
    p.set_defaults(func=cmd_rule)


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return n


def cmd_check(args) -> int:
    single_threaded_blas()  # before the engine imports numpy
    from .. import __version__
    from ..cache import stored_facts, worst_severity
    from ..discover import Skipped
    from ..engine import check_stream, collect, default_jobs, open_cache
    from ..findings import SEVERITY_RANK, JsonWriter
    from ..report.text import escape_controls
    from ..sweep import RunFacts, facts, safe_dict
    from .progress import progress_bar

    options, cfg = load_options(args)
    fail_on = args.fail_on or cfg.get("fail-on", "warning")
    fmt = args.format or cfg.get("format", "text")

    out_path = args.output or ("curvelint-report.html" if fmt == "html" else None)
    check_output(out_path, args.paths)
    check_paths(args.paths, urls=True)

    def warn(text: str) -> None:
        print(escape_controls(f"curvelint: warning: {text}"), file=sys.stderr)

    cache = None
    if not args.no_cache:
        cache_dir = args.cache_dir or os.environ.get("CURVELINT_CACHE_DIR") or None
        cache = open_cache(cache_dir, options, args.paths, warn=warn)
    bar = progress_bar(enabled=not args.quiet)
    n_runs = 0
    severities: list[str] = []
    spool = None
    overrides = OverrideCheck(options)
    try:
        stream = check_stream(
            args.paths,
            options,
            jobs=args.jobs or default_jobs(),
            cache=cache,
            keep_runs=fmt == "html",  # the charts need the curves
            progress=bar.update,
            json_text=fmt == "json",
            input_format=args.input_format,
            scheduler=args.scheduler,
        )
        if fmt == "json":
            # written run by run (to a spooled file: a usage error half-way prints nothing), so
            # that the reports of thousands of runs are never all held in memory
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed after the copy below)
                max_size=2**20, mode="w+", encoding="utf-8", newline=""
            )
            writer = JsonWriter(spool, __version__)
            skipped: list[Skipped] = []
            run_facts: list[RunFacts] = []  # a few numbers per run, for the sweep section
            for item in stream:
                if item.report is not None:
                    writer.add(item.report, item.json)
                    row = stored_facts(item.report)  # a cached report answers undecoded
                    run_facts.append(RunFacts.from_row(row) if row else facts(item.report))
                    overrides.add(item.report)
                    n_runs += 1
                    sev = worst_severity(item.report)
                    if sev is not None:
                        severities.append(sev)
                skipped.extend(item.skipped)
            writer.finish([s.to_dict() for s in skipped], safe_dict(run_facts))
        else:
            report, result = collect(stream, roots=args.paths)
            report.version = report.version or __version__
            skipped = result.skipped
            n_runs = len(report.runs)
            severities = [s for s in map(worst_severity, report.runs) if s is not None]
            for rr in report.runs:
                overrides.add(rr)
    except (TypeError, ValueError) as e:
        if spool is not None:
            spool.close()
        raise UsageError(f"bad rule option: {e}") from e
    finally:
        bar.close()
        if cache is not None:
            cache.close()

    try:
        overrides.finish()
    except UsageError:
        if spool is not None:
            spool.close()
        raise
    if spool is not None:
        spool.seek(0)
        with spool:
            copy_output(spool, args.output)
    elif fmt == "html":
        from ..report.html import render_html

        out = args.output or "curvelint-report.html"
        replaced = os.path.exists(out)
        write_output(render_html(report, result), out)
        print(
            f"curvelint: wrote {out} ({len(report.runs)} run(s)"
            + ("; it replaced the file of that name" if replaced else "")
            + ")",
            file=sys.stderr,
        )
    else:
        from ..report.text import render_text

        write_output(render_text(report, verbose=args.verbose), args.output)
    if not n_runs:
        print(
            escape_controls(f"curvelint: nothing readable under {', '.join(args.paths)}"),
            file=sys.stderr,
        )
        for s in skipped[:10]:
            print(escape_controls(f"  skipped {s.path}: {s.reason}"), file=sys.stderr)
        return EXIT_USAGE
    worst = max(severities, key=SEVERITY_RANK.__getitem__) if severities else None
    if args.exit_zero:
        return EXIT_OK
    if worst is not None and SEVERITY_RANK[worst] >= SEVERITY_RANK[fail_on]:
        return EXIT_FINDINGS
    return EXIT_OK


def cmd_rules(args) -> int:
    if args.format != "json":  # the list needs no rule imported (analyzer.rule_index)
        from ..rule_index import index

        listed = index()
        wn = max((len(r.name) for r in listed), default=0)
        wk = max((len(r.kind) for r in listed), default=0)
        for r in listed:
            print(f"{r.code}  {r.name:<{wn}}  {r.kind:<{wk}}  {r.summary}")
        return EXIT_OK
    import rules as registry  # the options are the keyword defaults of each rule's check

    print(
        json.dumps(
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "kind": r.kind,
                    "summary": r.summary,
                    "options": {k: v for k, v in r.options.items()},
                }
                for r in registry.all_rules()
            ],
            indent=2,
        )
    )
    return EXIT_OK


def cmd_rule(args) -> int:
    import rules as registry

    try:
        r = registry.get(args.code)
    except KeyError as e:
        raise UsageError(str(e.args[0])) from e
    print(f"{r.code} {r.name} (kind: {r.kind})\n")
    print((r.module.__doc__ or "").strip())
    if r.options:
        print("\nOptions (set with [tool.curvelint.rules." + r.code + "]):")
        for k, v in r.options.items():
            print(f"  {k} = {v!r}")
    return EXIT_OK
