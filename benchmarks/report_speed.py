"""How big and how fast is the HTML report of a large sweep? (issue 19)

Builds sweeps of 100, 2,000 and 10,000 runs from a pool of analysed runs — by default every run of
``fixtures/`` (loaded and analysed once for real), or with ``--base synthetic`` the synthetic
generator below (healthy, overfitting, plateau, oscillating and diverging curves written as
Keras-CSV and TensorBoard logs) — by copying pool runs under new names (``<id>~<copy>``) with their
findings, in a shuffled order. For each sweep it prints

* the size of the page (MB and KB per run) and the Python time of ``render_html``,
* in headless Chromium (selenium + the system chromium/chromedriver, as the browser tests use):
  *first paint* (the ``first-contentful-paint`` entry) and *interactive*, the time at which the
  table can be sorted, filtered and searched: ``domContentLoadedEventEnd`` or, when later, the
  ``curvelint-interactive`` mark the page's script sets after its set-up and one frame painted
  (``performance.now()``, from navigation start); also the ``load`` event. Median of ``--repeat``
  loads.

each against the targets: 10,000 runs -> page <= 20 MB, first paint <= 3 s, interactive <= 5 s.

    python benchmarks/report_speed.py                      # 100, 2,000 and 10,000 runs
    python benchmarks/report_speed.py --runs 100 --runs 500
    python benchmarks/report_speed.py --base synthetic     # no fixtures needed
    python benchmarks/report_speed.py --cache /tmp/pool.pkl  # keep the analysed pool between calls
    python benchmarks/report_speed.py --keep DIR           # also write the reports into DIR
    python benchmarks/report_speed.py --no-browser         # size and render time only
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.engine import analyze  # noqa: E402
from analyzer.findings import Report  # noqa: E402
from analyzer.report.html import render_html  # noqa: E402
from analyzer.runs import LoadResult, load  # noqa: E402

KINDS = ("healthy", "overfit", "plateau", "oscillating", "diverging")
TARGETS = {"size_mb": 20.0, "first_paint_s": 3.0, "interactive_s": 5.0}  # for 10,000 runs


def curves(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) loss over n points for one kind of behaviour, with noise."""
    t = np.arange(n) / n
    tau = rng.uniform(0.08, 0.3)
    start, floor = rng.uniform(1.5, 3.0), rng.uniform(0.02, 0.3)
    base = floor + (start - floor) * np.exp(-t / tau)
    noise = rng.uniform(0.005, 0.03)
    train = base * (1 + rng.normal(0, noise, n))
    val = (base + rng.uniform(0.02, 0.2)) * (1 + rng.normal(0, noise, n))
    if kind == "overfit":
        onset = rng.uniform(0.25, 0.5)
        val = val + rng.uniform(0.3, 1.5) * np.maximum(t - onset, 0)
        train = train * np.where(t > onset, np.exp(-(t - onset) * 2), 1)
    elif kind == "plateau":
        cut = rng.uniform(0.15, 0.35)
        level = base[int(cut * n)]
        train = np.where(t > cut, level, train) * (1 + rng.normal(0, noise / 3, n))
        val = np.where(t > cut, level + 0.05, val) * (1 + rng.normal(0, noise / 3, n))
    elif kind == "oscillating":
        amp = rng.uniform(0.1, 0.3)
        period = rng.uniform(0.04, 0.1)
        wave = 1 + amp * np.sin(2 * np.pi * t / period) * (t > 0.3)
        train, val = train * wave, val * wave
    elif kind == "diverging":
        onset = rng.uniform(0.5, 0.8)
        blow = np.exp(np.maximum(t - onset, 0) * rng.uniform(20, 60))
        train, val = train * blow, val * blow
        if rng.random() < 0.5:
            cut = int((onset + 0.1) * n)
            train[cut:] = np.nan
            val[cut:] = np.nan
    return train, val


def write_csv(path: Path, train: np.ndarray, val: np.ndarray) -> None:
    n = len(train)
    acc = np.clip(1 - train / (train[0] * 1.2), 0, 1)
    lr = 1e-3 * 0.5 ** (np.arange(n) // max(n // 3, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"]
    for i in range(n):
        lines.append(
            f"{i},{acc[i]:.5f},{lr[i]:.6g},{train[i]:.6g},{acc[i] * 0.97:.5f},{val[i]:.6g}"
        )
    path.write_text("\n".join(lines) + "\n")


def write_events(folder: Path, train: np.ndarray, val: np.ndarray, every: int = 10) -> None:
    """TensorBoard event files, one folder per split, as the Keras callback lays them out."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for split, values, stride in (("train", train, 1), ("validation", val, every)):
        w = EventFileWriter(str(folder / split))
        for step in range(0, len(values), stride):
            v = Summary.Value(tag="epoch_loss", simple_value=float(values[step]))
            w.add_event(Event(step=step, wall_time=1.7e9 + step, summary=Summary(value=[v])))
        w.close()


def build_sweep(root: Path, n_runs: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n_runs):
        kind = KINDS[i % len(KINDS)]
        if i % 4 == 3:  # a quarter at step level, as TensorBoard event files
            tr, va = curves(kind, int(rng.integers(1500, 4000)), rng)
            write_events(root / f"tb-{kind}-{i:04d}", tr, va)
        else:
            tr, va = curves(kind, int(rng.integers(30, 300)), rng)
            write_csv(root / f"csv-{kind}-{i:04d}" / "history.csv", tr, va)


# --------------------------------------------------------------------------- the pool and sweeps


def pool(base: str, n_synthetic: int, cache: Path | None) -> tuple[Report, LoadResult, float]:
    """The analysed runs sweeps are made of, and the analysis time per run."""
    if cache and cache.exists():
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    t0 = time.perf_counter()
    if base == "fixtures":
        result = load(ROOT / "fixtures")
        report = analyze(result)
    else:
        with tempfile.TemporaryDirectory(prefix="curvelint-bench-") as tmp:
            root = Path(tmp) / "sweep"
            build_sweep(root, n_synthetic)
            result = load(root)
            report = analyze(result)
    per_run = (time.perf_counter() - t0) / max(len(result.runs), 1)
    out = (report, result, per_run)
    if cache:
        with open(cache, "wb") as fh:
            pickle.dump(out, fh)
    return out


def sweep(report: Report, result: LoadResult, n_runs: int, seed: int = 1):
    """``n_runs`` runs copied from the pool (shuffled; copies renamed ``<id>~<k>``)."""
    by_id = {r.id: r for r in result.runs}
    pairs = [(rr, by_id[rr.run]) for rr in report.runs if rr.run in by_id]
    order = np.random.default_rng(seed).permutation(len(pairs))
    reports, runs = [], []
    for k in range(n_runs):
        rr, run = pairs[order[k % len(pairs)]]
        copy_no = k // len(pairs)
        new_id = run.id if copy_no == 0 else f"{run.id}~{copy_no}"
        r2 = copy.copy(run)
        r2.id = new_id
        runs.append(r2)
        reports.append(dataclasses.replace(rr, run=new_id))
    rep = Report(reports, list(report.skipped), report.version)
    return rep, LoadResult(runs, list(result.skipped), list(result.roots))


# --------------------------------------------------------------------------- the browser


def chromium_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not (chromium and driver_bin):
        raise RuntimeError(
            "needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        )
    profile = tempfile.mkdtemp(prefix="curvelint-bench-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(driver_bin), options=opts)
    d.set_page_load_timeout(600)
    return d, profile


TIMING_JS = """
var nav = performance.getEntriesByType('navigation')[0];
var fcp = performance.getEntriesByName('first-contentful-paint')[0];
var mark = performance.getEntriesByName('curvelint-interactive')[0];
return {fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd, mark: mark ? mark.startTime : null};
"""


def browser_times(driver, page: Path, repeat: int) -> dict:
    """Median first paint, interactive and load (s) over ``repeat`` loads of ``page``."""
    got = []
    for _ in range(repeat):
        driver.get("about:blank")
        driver.get(page.resolve().as_uri())
        t = None
        for i in range(200):  # the mark is set a frame after the set-up: wait for it (or give up)
            t = driver.execute_script(TIMING_JS)
            if (t["mark"] is not None and t["fcp"] is not None) or (t["load"] and i > 20):
                break
            time.sleep(0.05)
        assert t is not None
        inter = max(t["dcl"], t["mark"] or 0.0)
        got.append((t["fcp"] or float("nan"), inter, t["load"]))
    med = [statistics.median(v) / 1000 for v in zip(*got, strict=True)]
    return {"first_paint": med[0], "interactive": med[1], "load": med[2]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, action="append", help="sweep size (repeatable)")
    ap.add_argument("--base", choices=("fixtures", "synthetic"), default="fixtures")
    ap.add_argument("--synthetic-runs", type=int, default=200, help="pool size of --base synthetic")
    ap.add_argument("--cache", type=Path, help="pickle of the analysed pool (made when missing)")
    ap.add_argument("--keep", type=Path, help="write the reports into this folder")
    ap.add_argument("--repeat", type=int, default=3, help="browser loads per page (median)")
    ap.add_argument("--no-browser", action="store_true", help="size and render time only")
    args = ap.parse_args(argv)
    sizes = args.runs or [100, 2000, 10000]

    t0 = time.perf_counter()
    rep0, res0, analysis_per_run = pool(args.base, args.synthetic_runs, args.cache)
    print(
        f"pool: {len(res0.runs)} runs from {args.base} ({time.perf_counter() - t0:.1f} s, "
        f"analysis {analysis_per_run * 1e3:.0f} ms/run)"
    )
    render_html(*sweep(rep0, res0, 5))  # warm-up: imports and caches
    driver = profile = None
    if not args.no_browser:
        driver, profile = chromium_driver()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="curvelint-bench-pages-") as tmp:
            out_dir = args.keep or Path(tmp)
            out_dir.mkdir(parents=True, exist_ok=True)
            for n in sizes:
                rep, res = sweep(rep0, res0, n)
                t0 = time.perf_counter()
                html = render_html(rep, res)
                t_html = time.perf_counter() - t0
                page = out_dir / f"report-{n}.html"
                page.write_text(html, encoding="utf-8")
                row = {"runs": n, "size": len(html.encode("utf-8")), "render": t_html}
                del html
                if driver is not None:
                    row.update(browser_times(driver, page, args.repeat))
                rows.append(row)
                print_row(row, header=len(rows) == 1)
    finally:
        if driver is not None:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)

    ok = True
    big = [r for r in rows if r["runs"] >= 10_000]
    for r in big:
        checks = [("page MB", r["size"] / 1e6, TARGETS["size_mb"])]
        if "first_paint" in r:
            checks += [
                ("first paint s", r["first_paint"], TARGETS["first_paint_s"]),
                ("interactive s", r["interactive"], TARGETS["interactive_s"]),
            ]
        for name, got, target in checks:
            good = got <= target
            ok &= good
            print(
                f"{r['runs']:,} runs: {name} {got:.2f} (target <= {target}) {'ok' if good else 'MISSED'}"
            )
    return 0 if ok else 1


def print_row(r: dict, header: bool) -> None:
    if header:
        head = (
            f"{'runs':>6} {'page MB':>8} {'KB/run':>7} {'render s':>9} {'ms/run':>7} "
            f"{'first paint s':>14} {'interactive s':>14} {'load s':>7}"
        )
        print(head)
        print("-" * len(head))
    b = (
        f"{r['first_paint']:>14.2f} {r['interactive']:>14.2f} {r['load']:>7.2f}"
        if "first_paint" in r
        else f"{'-':>14} {'-':>14} {'-':>7}"
    )
    print(
        f"{r['runs']:>6} {r['size'] / 1e6:>8.2f} {r['size'] / 1e3 / r['runs']:>7.1f} "
        f"{r['render']:>9.2f} {r['render'] * 1e3 / r['runs']:>7.1f} {b}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
