"""How much does the saturating-curve fit (PLT002's asymptote) cost, before and after issue 12?

Collects the curves ``rules/still_improving.py`` hands to
:func:`analyzer.trends.asymptote.fit_asymptote` while ``check`` (one process, no cache) reads a
folder of runs, then times ``fit_asymptote`` on them in this process twice: as it is, and with its
soft-L1 polish done the way it was before (``scipy.optimize.curve_fit``, trust-region reflective,
``loss="soft_l1"``, the same ``f_scale`` and bounds, at most 100 evaluations; when it stopped
there, the grid optimum with an infinite stderr). Everything else in ``fit_asymptote`` (binning,
smoothing, noise, the grid start) is shared by both, so the ratio is that of the whole call.

Prints CPU time per call (the best of ``--repeat`` passes), the ratio, how often the old fit
stopped at its evaluation limit, and how the results differ: per fit (model x curve) the soft-L1
objective old vs new, and per curve every change in the chosen model, credibility, reasons,
asymptote (beyond 1e-6 relative) and its stderr.

    python benchmarks/fit_speed.py                      # builds a 300-run sweep (benchmarks/scale.py)
    python benchmarks/fit_speed.py --folder DIR ...     # the curves of these folders instead
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analyzer.cli.common import single_threaded_blas  # noqa: E402

single_threaded_blas()

import analyzer.trends.asymptote as A  # noqa: E402


def polish_curve_fit(
    model: str, tau: np.ndarray, z: np.ndarray, p0: tuple[float, ...], f_scale: float
) -> tuple[tuple[float, ...], float]:
    """The polish as it was before issue 12 (``scipy.optimize.curve_fit``), for reference."""
    from scipy.optimize import OptimizeWarning, curve_fit

    lo, hi = A._BOUNDS[model]
    p0c = tuple(float(np.clip(p, lo[i], hi[i])) for i, p in enumerate(p0))
    fn = A._model_fn(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(
                fn,
                tau,
                z,
                p0=p0c,
                bounds=(lo, hi),
                method="trf",
                jac=A._exp_jac if model == "exp" else A._power_jac,
                loss="soft_l1",
                f_scale=f_scale,
                max_nfev=100,
            )
        params = tuple(float(p) for p in popt)
        var_a = float(pcov[0, 0]) if np.all(np.isfinite(pcov)) else float("inf")
        if not np.all(np.isfinite(params)):
            raise ValueError("non-finite parameters")
        sse_new = float(np.sum((fn(tau, *params) - z) ** 2))
        sse_old = float(np.sum((fn(tau, *p0c) - z) ** 2))
        if sse_new > 4.0 * sse_old + 1e-12:
            params = p0c
        return params, float(np.sqrt(var_a)) if var_a >= 0 else float("inf")
    except (RuntimeError, ValueError, np.linalg.LinAlgError):
        return p0c, float("inf")


def collect(folders: list[Path]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(run, steps, values) of every call PLT002 makes while checking ``folders``."""
    import analyzer.engine as engine
    import rules.still_improving as rule

    calls: list[tuple[str, np.ndarray, np.ndarray]] = []
    real, real_run = rule.fit_asymptote, engine.analyze_run
    where = ["", ""]

    def spy(steps, values, **kw):
        run = f"{where[0]}: {where[1]}"
        calls.append((run, np.array(steps, dtype=float), np.array(values, dtype=float)))
        return real(steps, values, **kw)

    def spy_run(run, options=None):
        where[1] = run.id
        return real_run(run, options)

    rule.fit_asymptote, engine.analyze_run = spy, spy_run
    try:
        for folder in folders:
            where[0] = folder.name
            engine.check(folder, jobs=1)
    finally:
        rule.fit_asymptote, engine.analyze_run = real, real_run
    return calls


def objective(model: str, tau, z, params, f_scale) -> float:
    r = A._model_fn(model)(tau, *params) - z
    return float(f_scale**2 * np.sum(np.sqrt(1.0 + (r / f_scale) ** 2) - 1.0))


def run(calls, polish, repeat: int):
    """Results and per-fit records of ``fit_asymptote`` with ``polish``; best CPU time."""
    fit = A.fit_asymptote.__wrapped__
    saved = A._polish
    records: list[list[tuple]] = []

    def spy(model, tau, z, p0, f_scale):
        out = polish(model, tau, z, p0, f_scale)
        records[-1].append((model, tau, z, p0, f_scale, out))
        return out

    best = float("inf")
    try:
        A._polish = polish
        for _ in range(repeat):
            t = time.process_time()
            for _, s, v in calls:
                fit(s, v)
            best = min(best, time.process_time() - t)
        A._polish = spy
        results = []
        for _, s, v in calls:
            records.append([])
            results.append(fit(s, v))
    finally:
        A._polish = saved
    return results, records, best


def hit_limit(model, tau, z, p0, f_scale) -> bool:
    """Whether curve_fit (as before) stopped at its 100-evaluation limit on this fit."""
    from scipy.optimize import least_squares

    lo, hi = A._BOUNDS[model]
    p0 = tuple(float(np.clip(p, lo[i], hi[i])) for i, p in enumerate(p0))
    fn = A._model_fn(model)
    jac = A._exp_jac if model == "exp" else A._power_jac
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = least_squares(
            lambda p: fn(tau, *p) - z,
            p0,
            jac=lambda p: jac(tau, *p),
            bounds=(lo, hi),
            method="trf",
            loss="soft_l1",
            f_scale=f_scale,
            max_nfev=100,
        )
    return res.status == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", action="append", type=Path, help="check these runs' curves")
    ap.add_argument("--runs", type=int, default=300, help="sweep size when no --folder")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fit-speed-") as tmp:
        folders = args.folder
        if not folders:
            import scale

            folders = [scale.build(args.runs, Path(tmp) / "sweep")]
        calls = collect(folders)
    if not calls:
        print("no curve reached the fit")
        return 1
    import scipy.optimize  # noqa: F401  (imported before timing: not part of either fit)

    old, old_fits, t_old = run(calls, polish_curve_fit, args.repeat)
    new, new_fits, t_new = run(calls, A._polish, args.repeat)
    n = len(calls)
    print(f"{n} calls of fit_asymptote ({sum(map(len, new_fits))} fits)")
    print(f"  before (curve_fit): {t_old / n * 1e3:7.2f} ms CPU per call")
    print(f"  after:              {t_new / n * 1e3:7.2f} ms CPU per call")
    print(f"  ratio after/before: {t_new / t_old:.3f}  (target <= 0.10)")

    lower = same = higher = limited = 0
    worse: list[str] = []
    for i, (fo, fn_) in enumerate(zip(old_fits, new_fits, strict=True)):
        for (model, tau, z, p0, fs, (po, _)), (_, _, _, _, _, (pn, _)) in zip(fo, fn_, strict=True):
            o, w = objective(model, tau, z, po, fs), objective(model, tau, z, pn, fs)
            lim = hit_limit(model, tau, z, p0, fs)
            limited += lim
            if w < o * (1 - 1e-9):
                lower += 1
            elif w > o * (1 + 1e-9):
                higher += 1
                worse.append(f"  call {i} ({calls[i][0]}) {model}: {o:.9g} -> {w:.9g}")
            else:
                same += 1
    print(
        f"soft-L1 objective per fit, new vs old: {lower} lower, {same} equal (1e-9), "
        f"{higher} higher; the old fit stopped at its evaluation limit in {limited}"
    )
    for line in worse:
        print(line)

    changed = 0
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        diffs = []
        for field in ("model", "credible", "reasons"):
            if getattr(a, field) != getattr(b, field):
                diffs.append(f"{field} {getattr(a, field)!r} -> {getattr(b, field)!r}")
        for field in ("asymptote", "asymptote_stderr_work"):
            x, y = getattr(a, field), getattr(b, field)
            if not (x == y or abs(x - y) <= 1e-6 * max(abs(x), abs(y)) or (x != x and y != y)):
                diffs.append(f"{field} {x:.6g} -> {y:.6g}")
        if diffs:
            changed += 1
            objs = []
            for (model, tau, z, p0, fs, (po, _)), (_, _, _, _, _, (pn, _)) in zip(
                old_fits[i], new_fits[i], strict=True
            ):
                o, w = objective(model, tau, z, po, fs), objective(model, tau, z, pn, fs)
                mark = " (old: stopped at its limit)" if hit_limit(model, tau, z, p0, fs) else ""
                objs.append(f"{model} {o:.6g}->{w:.6g}{mark}")
            print(
                f"  call {i} ({calls[i][0]}): " + "; ".join(diffs) + "  [" + ", ".join(objs) + "]"
            )
    print(f"{changed} of {n} calls differ in model, credibility, reasons, asymptote or stderr")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
