"""CPU cost of each rule per run on a sweep (issue 12: <= 5 ms of CPU per run for `check`).

Reads every run of a sweep once (not timed), then, in this one process, times the rules on each
run's curve set, as ``engine.analyze_curves`` calls them (``Rule.run``), in two ways:

* ``in order``: all selected rules one after the other on a fresh copy of the run's curves (no
  statistics kept from an earlier pass), as ``check`` runs them. Statistics shared between rules
  (a curve's level summary, its smoothing) are paid by the first rule that asks for them.
* ``alone``: each rule by itself on a fresh copy: what the rule costs when no other rule ran.

Both clear the content memos of ``analyzer.trends`` (``_memo.by_content``) before each run (a
sweep's curves are all new: the memos only pay off in a live Monitor). Figures are CPU
milliseconds per run (``time.process_time``), the smallest total over ``--repeat`` passes.

    python -c "import sys; sys.path.insert(0,'benchmarks'); import scale; from pathlib import Path; \
        p=Path('/tmp/sw300'); p.mkdir(exist_ok=True); scale.build(300,p)"
    python benchmarks/rule_cost.py /tmp/sw300 [--repeat 3] [--json after.json] [--before before.json]

``--json FILE`` saves the figures; ``--before FILE`` (figures saved earlier, e.g. from another
checkout with ``PYTHONPATH=that/checkout``) adds before and after/before columns.
``--against DIR`` measures another checkout's code (a folder holding its ``analyzer`` and
``rules``) and this one in turns, ``--rounds`` times each in fresh processes, and compares the
smallest figures of each: on a shared machine, whose load drifts over minutes, figures taken
at different times are not comparable.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

# one BLAS thread, as `curvelint check` asks for (analyzer.cli.common.single_threaded_blas)
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # another checkout may come first on PYTHONPATH (--before figures)
    sys.path.append(str(ROOT))

import analyzer.trends as trends  # noqa: E402
from analyzer.curves import CurveSet  # noqa: E402
from analyzer.engine import Options  # noqa: E402
from analyzer.runs import load  # noqa: E402

EXCLUDED = "PLT002"  # the asymptote fit: worked on apart (its own figures are still shown)


def _memo_tables() -> list[Any]:
    """The ``by_content`` functions of analyzer.trends (they have ``cache_len``)."""
    out = []
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("analyzer.trends"):
            for v in vars(mod).values():
                if callable(v) and hasattr(v, "cache_len") and v not in out:
                    out.append(v)
    return out


def _fresh(cs: CurveSet) -> CurveSet:
    """The same curves as new objects: no statistics kept with them."""
    return cs.map_curves(lambda c: replace(c))


def measure(sets: list[CurveSet], repeat: int) -> dict[str, Any]:
    rules = Options().rules()
    memos = _memo_tables()

    def clear() -> None:
        for m in memos:
            m.cache_clear()

    best_order: dict[str, float] = {}
    best_alone: dict[str, float] = {}
    best_total = float("inf")
    clock = time.process_time
    for _ in range(repeat):
        gc.collect()
        order = dict.fromkeys((r.code for r in rules), 0.0)
        total = 0.0
        for cs in sets:
            clear()
            fresh = _fresh(cs)
            t_run = clock()
            for r in rules:
                t0 = clock()
                r.run(fresh)
                order[r.code] += clock() - t0
            total += clock() - t_run
        alone = dict.fromkeys((r.code for r in rules), 0.0)
        for r in rules:
            for cs in sets:
                clear()
                fresh = _fresh(cs)
                t0 = clock()
                r.run(fresh)
                alone[r.code] += clock() - t0
        for code in order:
            best_order[code] = min(best_order.get(code, float("inf")), order[code])
            best_alone[code] = min(best_alone.get(code, float("inf")), alone[code])
        best_total = min(best_total, total)
    n = len(sets)
    return {
        "runs": n,
        "in_order_ms": {k: 1000 * v / n for k, v in best_order.items()},
        "alone_ms": {k: 1000 * v / n for k, v in best_alone.items()},
        "all_rules_ms": 1000 * best_total / n,
    }


def _rows(res: dict[str, Any]) -> dict[str, tuple[float, float]]:
    rows = {k: (res["in_order_ms"][k], res["alone_ms"][k]) for k in res["in_order_ms"]}
    rest = [k for k in rows if k != EXCLUDED]
    rows[f"all but {EXCLUDED}"] = (
        sum(rows[k][0] for k in rest),
        sum(rows[k][1] for k in rest),
    )
    rows["all rules"] = (
        res["all_rules_ms"],
        sum(v[1] for k, v in rows.items() if k in res["alone_ms"]),
    )
    return rows


def report(res: dict[str, Any], before: dict[str, Any] | None) -> str:
    now = _rows(res)
    old = _rows(before) if before else None
    lines = [
        f"CPU ms per run over {res['runs']} runs (in order: as check runs them; alone: each rule by itself)"
    ]
    if old is None:
        lines.append(f"{'rule':18} {'in order':>9} {'alone':>9}")
        for k, (a, b) in now.items():
            lines.append(f"{k:18} {a:9.3f} {b:9.3f}")
    else:
        lines.append(
            f"{'rule':18} {'in order':>9} {'before':>9} {'ratio':>6}   {'alone':>9} {'before':>9} {'ratio':>6}"
        )
        for k, (a, b) in now.items():
            oa, ob = old.get(k, (float("nan"), float("nan")))
            lines.append(
                f"{k:18} {a:9.3f} {oa:9.3f} {a / oa:6.2f}   {b:9.3f} {ob:9.3f} {b / ob:6.2f}"
            )
    return "\n".join(lines)


def _min_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(results[0])
    for key in ("in_order_ms", "alone_ms"):
        out[key] = {k: min(r[key][k] for r in results) for k in results[0][key]}
    out["all_rules_ms"] = min(r["all_rules_ms"] for r in results)
    return out


def _in_turns(
    sweep: Path, other: Path, rounds: int, repeat: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(other checkout's figures, this one's), each the smallest over ``rounds`` processes run
    in turns."""
    got: dict[str, list[dict[str, Any]]] = {"other": [], "this": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            for name, tree in (("other", other), ("this", ROOT)):
                out = Path(tmp) / f"{name}{i}.json"
                env = {**os.environ, "PYTHONPATH": str(tree)}
                cmd = [sys.executable, __file__, str(sweep), "--repeat", str(repeat)]
                subprocess.run([*cmd, "--json", str(out)], env=env, check=True, capture_output=True)
                got[name].append(json.loads(out.read_text()))
    return _min_of(got["other"]), _min_of(got["this"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep", type=Path, help="a folder of runs (benchmarks/scale.py build)")
    ap.add_argument("--repeat", type=int, default=3, help="passes; the smallest total is shown")
    ap.add_argument("--json", type=Path, help="save the figures in this file")
    ap.add_argument("--before", type=Path, help="figures saved earlier with --json, to compare")
    ap.add_argument(
        "--against", type=Path, help="another checkout to measure in turns with this one"
    )
    ap.add_argument("--rounds", type=int, default=2, help="processes per checkout (--against)")
    args = ap.parse_args(argv)
    if args.against:
        before, res = _in_turns(args.sweep, args.against, max(1, args.rounds), args.repeat)
        print(f"before: {args.against}; after: {ROOT}")
        print(report(res, before))
        if args.json:
            args.json.write_text(json.dumps({"before": before, "after": res}, indent=1) + "\n")
        return 0
    t0 = time.perf_counter()
    loaded = load(args.sweep)
    sets = [run.curve_set() for run in loaded.runs]
    print(
        f"read {len(sets)} runs in {time.perf_counter() - t0:.1f} s (not counted); "
        f"code from {Path(trends.__file__).parents[1]}",
        file=sys.stderr,
    )
    res = measure(sets, max(1, args.repeat))
    before = json.loads(args.before.read_text()) if args.before else None
    print(report(res, before))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
