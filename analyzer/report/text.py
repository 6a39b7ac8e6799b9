"""Terminal output in the style of the linters people know: one line per finding, then a summary."""

from __future__ import annotations

import re
from collections import Counter

from ..findings import Report, step_range

ICON = {"error": "E", "warning": "W", "info": "I"}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(line: str) -> str:
    """A line of text output with its control characters shown, not obeyed: a newline in a
    folder name cannot forge a line, an escape sequence in a tag cannot clear the screen or
    retitle the window (``\\n``, ``\\x1b`` ...). Tabs are kept."""

    def show(m: re.Match) -> str:
        c = m.group(0)
        return {"\n": "\\n", "\r": "\\r"}.get(c, f"\\x{ord(c):02x}") if c != "\t" else c

    return _CONTROL.sub(show, line)


def render_text(report: Report, *, verbose: bool = False, show_remedies: int = 1) -> str:
    lines: list[str] = []
    for run in report.runs:
        head = f"{run.run} [{run.format}]: {run.verdict}"
        roles = ", ".join(
            f"{k}={v}" for k, v in run.roles.items() if v and k in ("train_loss", "val_loss")
        )
        lines.append(head + (f"  ({roles})" if roles else ""))
        if run.summary.get("verdict_reason"):
            lines.append(f"  {run.summary['verdict_reason']}")
        for f in run.findings:
            where = step_range(f.start_step, f.end_step, label=True)
            lines.append(
                f"  {run.run}:{f.curve or '-'}:{where}: {f.code} [{f.severity}] {f.message} "
                f"(confidence {f.confidence:.2f})"
            )
            for r in f.remedies[:show_remedies]:
                lines.append(f"      fix: {r.title} — {r.why}")
                if verbose and r.keras:
                    lines.extend("        " + ln for ln in r.keras.splitlines())
        if verbose:
            for n in run.notes:
                lines.append(f"  note: {n}")
        lines.append("")
    verdicts = Counter(r.verdict for r in report.runs)
    sev = Counter(f.severity for f in report.findings)
    kinds = Counter(f.kind for f in report.findings if f.severity != "info")
    parts = [
        f"{len(report.runs)} run(s): " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
    ]
    if report.findings:
        parts.append(
            f"{len(report.findings)} finding(s): "
            + ", ".join(f"{sev[s]} {s}" for s in ("error", "warning", "info") if sev[s])
        )
    if kinds:
        parts.append("problems: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common()))
    if report.skipped:
        parts.append(f"{len(report.skipped)} path(s) skipped (see --format json)")
    lines.append("; ".join(parts))
    return "\n".join(escape_controls(line) for line in lines) + "\n"
