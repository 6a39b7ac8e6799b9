"""The files a verification leaves in its output folder: ``verify.json``, ``verify.html`` and
``report.html`` (used by ``curvelint verify`` and ``benchmarks/verify.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_outputs(result: Any) -> tuple[Path, Path]:
    """verify.json and verify.html in the output folder, and report.html: the diagnosis of every
    trained run (baseline and remedies) with the verification as a section of the main report."""
    from .html import render_verify_html, verify_section

    out = Path(result.out)
    j, h = out / "verify.json", out / "verify.html"
    j.write_text(json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    h.write_text(render_verify_html(result), encoding="utf-8")
    try:
        from ..engine import analyze
        from ..report.html import render_html
        from ..runs import load

        loaded = load(out)
        if loaded.runs:
            page = render_html(
                analyze(loaded),
                loaded,
                title="curvelint verify — " + Path(str(result.experiment)).name,
                verification=verify_section(result),
            )
            (out / "report.html").write_text(page, encoding="utf-8")
    except Exception as e:  # the stand-alone page is already written; say why the report is not
        result.notes.append(f"report.html not written: {type(e).__name__}: {e}")
    return j, h
