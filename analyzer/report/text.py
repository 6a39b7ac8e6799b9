"""Terminal output in the style of the linters people know: one line per finding, then a summary."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..findings import FRAMEWORK_LABELS, Report, RunReport, step_range

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
    """One line per finding, then a summary. Each finding is followed by its first
    ``show_remedies`` remedies that no earlier finding of the run showed (a remedy suggested by
    several findings is shown once). With ``verbose``: the run's one remedy list, each remedy once
    with the findings it addresses and its snippet for the run's framework (both Keras and
    PyTorch when the framework is unknown), and the reader notes."""
    lines: list[str] = []
    for run in report.runs:
        head = f"{run.run} [{run.format}]: {run.verdict}"
        roles = ", ".join(
            f"{k}={v}" for k, v in run.roles.items() if v and k in ("train_loss", "val_loss")
        )
        lines.append(head + (f"  ({roles})" if roles else ""))
        if run.summary.get("verdict_reason"):
            lines.append(f"  {run.summary['verdict_reason']}")
        shown: set[str] = set()
        for f in run.findings:
            where = step_range(f.start_step, f.end_step, label=True)
            lines.append(
                f"  {run.run}:{f.curve or '-'}:{where}: {f.code} [{f.severity}] {f.message} "
                f"(confidence {f.confidence:.2f})"
            )
            if verbose:
                continue
            for r in [r for r in f.remedies if r.id not in shown][:show_remedies]:
                shown.add(r.id)
                lines.append(f"      fix: {r.title} — {r.why}")
        if verbose:
            lines.extend(remedy_lines(run))
            for n in run.notes:
                lines.append(f"  note: {n}")
        lines.append("")
    if report.sweep is not None:
        lines.extend(sweep_lines(report.sweep))
        lines.append("")
    verdicts = Counter(r.verdict for r in report.runs)
    sev = Counter(f.severity for f in report.findings)
    kinds = Counter(f.kind for f in report.findings if f.severity != "info")
    parts = [
        f"{len(report.runs)} run(s)"
        + (": " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) if verdicts else "")
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


def remedy_lines(run: RunReport) -> list[str]:
    """The run's remedy list for ``-v``: numbered, each with the codes of the findings it
    addresses and its snippet for the run's framework first."""
    entries = run.remedies
    if not entries:
        return []
    setup = run.setup
    if setup.framework:
        reason = next((e for e in setup.evidence if e.startswith(setup.framework + ":")), "")
        intro = f"  remedies (for {FRAMEWORK_LABELS[setup.framework]}"
        intro += f", {reason.split(': ', 1)[1]})" if reason else ")"
    else:
        intro = "  remedies (framework unknown: Keras and PyTorch shown)"
    out = [intro + ":"]
    for n, e in enumerate(entries, 1):
        r = e.remedy
        codes = ", ".join(dict.fromkeys(run.findings[i].code for i in e.findings))
        out.append(f"    {n}. {r.title} — {r.why}  [{codes}]")
        snippets = r.snippets(setup.order())
        if setup.framework:
            snippets = snippets[:1]
        else:
            snippets = [(fw, code) for fw, code in snippets if fw in ("keras", "pytorch")]
        for fw, code in snippets:
            out.append(f"       {FRAMEWORK_LABELS[fw]}:")
            out.extend("         " + ln for ln in code.splitlines())
    return out


def sweep_lines(sweep: dict[str, Any]) -> list[str]:
    """The sweep section of the text report: the claims that survived, seed-sensitive
    settings, the best healthy run."""
    n, tests = sweep["runs"], sweep["tests"]
    names = ", ".join(
        h["name"] + (f" (= {', '.join(h['aliases'])})" if h["aliases"] else "")
        for h in sweep["hparams"]
    )
    lines = [f"sweep: {n} runs over {names}"]
    if sweep["claims"]:
        lines.append(
            f"  settings that go with a problem ({tests} tests, Holm-corrected, "
            f"family-wise error {sweep['alpha']:g}):"
        )
        lines.extend(f"    {c['sentence']}" for c in sweep["claims"])
    else:
        lines.append(
            f"  no problem is concentrated in a setting ({tests} tests, Holm-corrected, "
            f"family-wise error {sweep['alpha']:g})"
        )
    if sweep["seed_sensitive"]:
        lines.append("  seed-sensitive (found in some seeds of a setting only):")
        lines.extend(f"    {g['sentence']}" for g in sweep["seed_sensitive"])
    best = sweep.get("best_run")
    lines.append(f"  {best['sentence']}" if best else "  no healthy run with a validation loss")
    return lines
