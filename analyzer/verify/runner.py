"""Train the baseline and the remedied runs with Keras, log them, diagnose them, decide.

TensorFlow is imported only in a child process (:mod:`analyzer.verify.worker`), so ``curvelint``
works without it and the user's training cannot take the verifier down. Every run:

1. seeds Python, NumPy and TensorFlow with the run's seed (``keras.utils.set_random_seed``), so the
   baseline and a remedy share initial weights and data order within a seed;
2. calls ``experiment(hp)`` (see :mod:`analyzer.verify.experiment`), compiles the model if needed;
3. trains with the same epoch budget, the remedy's callbacks, ``TerminateOnNaN``, a time-budget
   callback, and Keras' own ``TensorBoard`` callback writing to ``OUT/logs/<arm>/s<seed>``;
4. evaluates the weights training ended with (this counts restored best weights) on held-out data
   no callback monitored (the experiment's ``"test"`` split, else half of the validation data), and
   diagnoses the written logs with curvelint's engine (``runs.load`` + rules), in the parent.

Failures are contained. An exception in ``experiment(hp)`` or ``model.fit`` comes back as a message
naming the arm and the seed. Each training has a wall-clock limit (``--run-timeout``, by default
5x the slowest baseline run, at least a minute; one hour for the first baseline run): past it the
child is killed and a fresh one trains the next run. A failing baseline ends the verification
(``failure``: nothing can be judged, exit 2) with the finished runs kept; a failing remedy is
marked ``failed`` and the other remedies go on.

Runs go seed by seed (baseline for all seeds first, it decides what to verify), so a time budget
that runs out leaves complete pairs rather than one arm finished and the other not started. The
learning-rate remedies climb a dose ladder (x10, x100, x1000) while the smaller dose neither
resolved the problem nor made things worse; random controls get one dose.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import shutil
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..findings import SEVERITY_RANK, Finding
from .decide import RunOutcome, Verdict, decide, failed_verdict, pct, pick_target
from .experiment import ExperimentError
from .remedies import (
    DEFAULT_LR,
    LADDER,
    MAX_DOSE,
    TESTABLE,
    Change,
    NotTestable,
    change_for,
    first_testable,
    honoured_by_verifier,
    missing_keys,
)

DEFAULT_EPOCHS = 30
DEFAULT_SEEDS = 3
MARKER = ".curvelint-verify"
TF_HINT = "verify needs TensorFlow: pip install 'curvelint[tf]'  (or tensorflow-cpu)"
FIRST_RUN_LIMIT = 3600.0  # seconds: the first baseline run has no earlier run to scale from
LIMIT_FACTOR = 5.0  # a run may take this many times the slowest baseline run
MIN_LIMIT = 60.0  # ... but at least this many seconds
BUDGET_GRACE = 30.0  # seconds past --max-minutes before a run that ignores it is killed
LOAD_LIMIT = 600.0  # seconds for the child to import the experiment file (and TensorFlow)


class TensorFlowMissing(ImportError):
    """TensorFlow/Keras are not installed."""


class VerifyError(Exception):
    """A usage problem: bad output folder, nothing to verify, unknown remedy."""


def require_tf() -> None:
    """Raise :class:`TensorFlowMissing` with the install hint when TensorFlow is absent."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None:
        raise TensorFlowMissing(TF_HINT)


@dataclass
class Plan:
    """What to verify and with which budget; the CLI arguments as data."""

    experiment: Path
    out: Path
    seeds: Sequence[int] = tuple(range(DEFAULT_SEEDS))
    epochs: int | None = None
    remedies: Sequence[str] = ()
    run: Path | None = None
    control: bool = True
    n_controls: int = 1  # random control remedies (the benchmark uses more for a steadier rate)
    max_minutes: float | None = None
    metric: str = "end"
    min_effect: float = 0.02
    overwrite: bool = False
    run_timeout: float | None = None  # seconds per training run; None: derived from the baseline
    ladder: bool = True  # climb the dose ladder of the learning-rate remedies


@dataclass
class Target:
    """The diagnosed problem the remedies are meant to fix."""

    kind: str | None
    code: str | None
    message: str
    source: str  # "--run PATH" or "baseline"
    remedies: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "remedies": list(self.remedies),
        }


@dataclass
class VerifyResult:
    """Everything a verification produced, for the JSON, text and HTML outputs.

    ``failure`` is set when nothing can be judged (a baseline run failed, was cut short, or logged
    no validation loss); ``failed`` maps an arm to why its runs failed; ``ladder`` holds the
    verdict of every dose tried of a learning-rate remedy (``verdicts`` has the chosen one).
    """

    experiment: str
    out: str
    epochs: int
    seeds: list[int]
    metric: str
    target: Target | None
    top: str | None
    control: str | None
    controls: list[str] = field(default_factory=list)
    changes: dict[str, Change] = field(default_factory=dict)
    not_applicable: dict[str, str] = field(default_factory=dict)
    runs: list[RunOutcome] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    failure: str | None = None
    failed: dict[str, str] = field(default_factory=dict)
    ladder: dict[str, list[Verdict]] = field(default_factory=dict)
    judged_on: str = ""
    n_outputs: int | None = None

    def baseline_seconds(self) -> float:
        """Mean wall time of one complete baseline run."""
        t = [r.seconds for r in self.runs if r.arm == "baseline" and r.complete]
        return sum(t) / len(t) if t else math.nan

    def verdict_for(self, remedy: str | None) -> Verdict | None:
        return next((v for v in self.verdicts if v.remedy == remedy), None)

    def helped(self) -> list[Verdict]:
        """The remedies (not controls) that resolved or improved the problem."""
        return [v for v in self.verdicts if not v.control and v.helped]

    def to_dict(self) -> dict[str, Any]:
        b = self.baseline_seconds()
        return {
            "version": 2,
            "experiment": self.experiment,
            "out": self.out,
            "epochs": self.epochs,
            "seeds": list(self.seeds),
            "metric": self.metric,
            "judged_on": self.judged_on,
            "n_outputs": self.n_outputs,
            "failure": self.failure,
            "failed": dict(self.failed),
            "target": self.target.to_dict() if self.target else None,
            "top_remedy": self.top,
            "control": self.control,
            "controls": list(self.controls),
            "changes": {k: c.to_dict() for k, c in self.changes.items()},
            "not_applicable": dict(self.not_applicable),
            "verdicts": [v.to_dict() for v in self.verdicts],
            "ladder": {k: [v.to_dict() for v in vs] for k, vs in self.ladder.items()},
            "helped": [v.remedy for v in self.helped()],
            "runs": [r.to_dict() for r in self.runs],
            "seconds": round(self.seconds, 2),
            "baseline_seconds": None if math.isnan(b) else round(b, 2),
            "relative_time": None if math.isnan(b) or b <= 0 else round(self.seconds / b, 2),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------------------
# Output folder
# ------------------------------------------------------------------------------------------


def check_out(out: Path, user_logs: Path | None, overwrite: bool = False) -> None:
    """Refuse an output folder before anything is loaded or trained: the user's log folder, a
    file, a non-empty folder (unless ``overwrite``, and then only one curvelint verify made)."""
    out = out.resolve()
    if user_logs is not None:
        logs = user_logs.resolve()
        if out == logs or logs in out.parents or out in logs.parents:
            raise VerifyError(
                f"-o {out} overlaps the run being verified ({logs}); "
                "verification logs never go into the user's log folder"
            )
    if out.exists() and not out.is_dir():
        raise VerifyError(f"-o {out} exists and is not a folder")
    if out.exists() and any(p.name != MARKER for p in out.iterdir()):
        if not (out / MARKER).exists():
            raise VerifyError(
                f"-o {out} is a non-empty folder not made by curvelint verify; choose another"
            )
        if not overwrite:
            raise VerifyError(
                f"-o {out} holds an earlier verification; its runs would mix with this one's in "
                "report.html. Choose another folder, or pass --overwrite to replace it"
            )


def prepare_out(out: Path, user_logs: Path | None, overwrite: bool = False) -> None:
    """Check the output folder (:func:`check_out`), empty it when ``overwrite`` allows, create it."""
    check_out(out, user_logs, overwrite)
    out = out.resolve()
    if out.exists() and (out / MARKER).exists():
        for child in out.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by curvelint verify\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------
# Diagnosis with curvelint's engine
# ------------------------------------------------------------------------------------------


def _problems(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"]]


def diagnose_dir(path: Path) -> list[Finding]:
    """curvelint's findings for the run logged under ``path`` (all runs found there)."""
    from ..engine import analyze
    from ..runs import load

    report = analyze(load([path]))
    return [f for rr in report.runs for f in rr.findings]


def target_from_run(path: Path) -> Target:
    """The worst problem curvelint finds in an existing run (``--run``)."""
    if not path.exists():
        raise VerifyError(f"--run {path}: no such file or folder")
    findings = _problems(diagnose_dir(path))
    if not findings:
        return Target(None, None, f"no problem found in {path}", f"--run {path}")
    f = min(findings, key=Finding.sort_key)
    return Target(f.kind, f.code, f.message, f"--run {path}", [r.id for r in f.remedies])


def target_from_baseline(findings_by_seed: Sequence[Sequence[Finding]]) -> Target:
    """The problem to verify when most baseline seeds show one (``pick_target``), with the
    remedies of its worst finding."""
    problems = [sorted(_problems(fs), key=Finding.sort_key) for fs in findings_by_seed]
    kinds = [list(dict.fromkeys(f.kind for f in fs)) for fs in problems]
    kind = pick_target(kinds)
    if kind is None:
        shown = sorted({k for ks in kinds for k in ks})
        if not shown:
            return Target(None, None, "no problem found in the baseline runs", "baseline")
        seen = ", ".join(f"{k} in {sum(k in ks for ks in kinds)}/{len(kinds)}" for k in shown)
        return Target(
            None,
            None,
            f"most baseline seeds show no problem ({seen} seeds): a problem a minority of seeds "
            "shows is not a property of this setup, and a remedy for it could only be judged on "
            "seed noise",
            "baseline",
        )
    f = min((f for fs in problems for f in fs if f.kind == kind), key=Finding.sort_key)
    n = sum(kind in ks for ks in kinds)
    return Target(
        kind,
        f.code,
        f"{f.message} ({n}/{len(kinds)} seeds)",
        "baseline",
        [r.id for r in f.remedies],
    )


# ------------------------------------------------------------------------------------------
# Training, in a child process
# ------------------------------------------------------------------------------------------


class Progress:
    """Progress lines on stderr: one per epoch (rewritten in place on a terminal, a line each
    otherwise, so a log file shows that training moves) and one per finished run."""

    def __init__(self, stream: TextIO | None = None, total: int = 0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total = total
        self.done = 0

    def epoch(self, label: str, epoch: int, epochs: int, loss: float, val: float) -> None:
        text = (
            f"  [{self.done + 1}/{self.total}] {label}: epoch {epoch}/{epochs} "
            f"loss {loss:.4g} val_loss {val:.4g}"
        )
        self.stream.write(f"\r{text}   " if self.tty else f"{text}\n")
        self.stream.flush()

    def run_done(self, label: str, out: RunOutcome) -> None:
        self.done += 1
        if self.tty:
            self.stream.write("\r")
        kinds = ", ".join(out.kinds) or "healthy"
        cut = "" if out.complete else " (cut short by the time budget)"
        self.stream.write(
            f"  [{self.done}/{self.total}] {label}: {out.epochs_run} epochs in {out.seconds:.1f}s, "
            f"held-out loss end {out.metric('end'):.4g}, best val loss {out.best_val_loss:.4g}; "
            f"{kinds}{cut}\n"
        )
        self.stream.flush()

    def run_failed(self, label: str, why: str) -> None:
        self.done += 1
        if self.tty:
            self.stream.write("\r")
        first = why.splitlines()[0] if why else "failed"
        self.stream.write(f"  [{self.done}/{self.total}] {label}: FAILED: {first}\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        self.stream.write(f"curvelint verify: {text}\n")
        self.stream.flush()


class Worker:
    """The child process that imports the experiment and trains runs (see
    :mod:`analyzer.verify.worker`); killed and replaced when a run exceeds its limit."""

    def __init__(self, experiment: Path, progress: Progress) -> None:
        self.experiment = str(experiment)
        self.progress = progress
        self.proc: Any = None
        self.conn: Any = None

    def start(self) -> None:
        from . import worker

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=worker.serve, args=(child, self.experiment), name="curvelint-verify-train"
        )
        self.proc.start()
        child.close()
        self.conn = parent
        status, payload, _ = self._wait(LOAD_LIMIT, clock_from_start=False)
        if status == "loaded":
            return
        self.kill()
        if status == "error":
            raise ExperimentError(payload)
        if status == "timeout":
            payload = f"the import did not finish within {LOAD_LIMIT:g}s (killed)"
        raise ExperimentError(f"importing {self.experiment}: {payload}")

    def _ensure(self) -> None:
        if self.proc is None or not self.proc.is_alive():
            self.start()

    def _wait(self, limit: float | None, clock_from_start: bool = True) -> tuple[str, Any, float]:
        """Read messages until a final one; (status, payload, seconds since 'start')."""
        t0 = time.monotonic()
        started = None if clock_from_start else t0
        while True:
            now = time.monotonic()
            ref = started if started is not None else t0
            if limit is not None and now - ref > limit:
                self.kill()
                return "timeout", now - ref, now - ref
            try:
                ready = self.conn.poll(0.25)
            except (EOFError, OSError):
                ready = False
            if not ready:
                if not self.proc.is_alive():
                    try:  # a final message may still be in the pipe
                        if self.conn.poll(0):
                            ready = True
                    except (EOFError, OSError):
                        pass
                    if not ready:
                        code = self.proc.exitcode
                        self.kill()
                        return "died", f"the training process died (exit code {code})", 0.0
                continue
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                code = self.proc.exitcode
                self.kill()
                return "died", f"the training process died (exit code {code})", 0.0
            kind = msg[0]
            if kind == "start":
                started = time.monotonic()
            elif kind == "epoch":
                self.progress.epoch(*msg[1:])
            else:
                return kind, msg[1], time.monotonic() - (started or t0)

    def probe(self, hp: dict[str, Any]) -> tuple[str, Any]:
        self._ensure()
        self.conn.send(("probe", hp))
        status, payload, _ = self._wait(LOAD_LIMIT, clock_from_start=False)
        return status, payload

    def train(self, task: dict[str, Any], limit: float | None) -> tuple[str, Any, float]:
        self._ensure()
        self.conn.send(("train", task))
        return self._wait(limit)

    def kill(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(("stop",))
                self.proc.join(10)
            except (OSError, ValueError):
                pass
        self.kill()


def _effective_hp(spec: dict[str, Any], hp: dict[str, Any]) -> dict[str, Any]:
    """What the run actually used: the verifier's values over the experiment's defaults."""
    eff = {**spec["hp_defaults"], **{k: v for k, v in hp.items() if v is not None}}
    if not spec["compiled"]:
        eff.setdefault("learning_rate", DEFAULT_LR)
        eff.setdefault("optimizer", "adam")
    return eff


def run_limit(
    run_timeout: float | None,
    base_times: Sequence[float],
    run_epochs: int,
    epochs: int,
    seconds_left: float | None,
) -> tuple[float, str]:
    """The wall-clock limit of one training run in seconds, and where it comes from:
    ``--run-timeout`` when given; else :data:`LIMIT_FACTOR` times the slowest baseline run so far
    (scaled to the run's epochs, at least :data:`MIN_LIMIT`), or :data:`FIRST_RUN_LIMIT` before
    any baseline finished; never more than the time budget left plus :data:`BUDGET_GRACE`."""
    if run_timeout is not None:
        lim, why = float(run_timeout), "--run-timeout"
    elif base_times:
        slow = max(base_times)
        lim = max(MIN_LIMIT, LIMIT_FACTOR * slow * run_epochs / max(epochs, 1))
        why = (
            f"{LIMIT_FACTOR:g}x the slowest baseline run ({slow:.1f}s"
            + (f", scaled to {run_epochs} epochs" if run_epochs != epochs else "")
            + f"), at least {MIN_LIMIT:g}s; set it with --run-timeout"
        )
    else:
        lim, why = FIRST_RUN_LIMIT, "the limit of the first run; set it with --run-timeout"
    if seconds_left is not None and seconds_left + BUDGET_GRACE < lim:
        lim, why = seconds_left + BUDGET_GRACE, f"the --max-minutes budget plus {BUDGET_GRACE:g}s"
    return lim, why


def _no_val_reason(payload: dict[str, Any]) -> str:
    vf = payload.get("validation_freq")
    if isinstance(vf, int) and vf > payload.get("epochs_run", 0):
        return (
            f"fit's validation_freq={vf} is larger than the {payload.get('epochs_run')} epochs "
            "run, so Keras never evaluated the validation data"
        )
    return "Keras logged no val_loss (is the validation data empty?)"


def verify(plan: Plan, stream: TextIO | None = None) -> VerifyResult:
    """Run the whole verification described by ``plan``; see the module docstring.

    Raises :class:`VerifyError` for usage problems and :class:`ExperimentError` when the
    experiment file does not import; everything that goes wrong while training is in the result
    (``failure``, ``failed``) with the finished runs.
    """
    require_tf()
    t_start = time.monotonic()
    if not plan.seeds:
        raise VerifyError("--seeds must be at least 1")
    if plan.run_timeout is not None and plan.run_timeout <= 0:
        raise VerifyError("--run-timeout must be positive")
    for r in plan.remedies:
        if r not in TESTABLE:
            try:
                change_for(r, {}, DEFAULT_EPOCHS)
            except NotTestable as e:
                raise VerifyError(f"remedy {e.remedy_id} cannot be verified: {e.reason}") from e
            except KeyError as e:
                raise VerifyError(str(e.args[0])) from e
    if plan.run is not None and not plan.run.exists():
        raise VerifyError(f"--run {plan.run}: no such file or folder")
    check_out(plan.out, plan.run, plan.overwrite)  # before the experiment is loaded
    progress = Progress(stream, total=len(plan.seeds))
    worker = Worker(plan.experiment, progress)
    try:
        worker.start()
        prepare_out(plan.out, plan.run, plan.overwrite)
        result = VerifyResult(
            experiment=str(plan.experiment),
            out=str(plan.out),
            epochs=plan.epochs or DEFAULT_EPOCHS,
            seeds=list(plan.seeds),
            metric=plan.metric,
            target=None,
            top=None,
            control=None,
        )
        _run(plan, worker, progress, result, t_start)
    finally:
        worker.close()
    result.seconds = time.monotonic() - t_start
    return result


def _run(
    plan: Plan, worker: Worker, progress: Progress, result: VerifyResult, t_start: float
) -> None:
    deadline = t_start + plan.max_minutes * 60 if plan.max_minutes else None
    seeds = list(plan.seeds)
    notes = result.notes
    if plan.run:
        result.target = target_from_run(plan.run)

    status, spec = worker.probe({"seed": seeds[0]})
    if status != "spec":
        if status == "timeout":
            spec = f"experiment(hp) did not return within {LOAD_LIMIT:g}s (killed)"
        result.failure = f"baseline seed {seeds[0]}: {spec}"
        result.failed["baseline"] = result.failure
        return
    epochs = plan.epochs or int(spec["hp_defaults"].get("epochs", DEFAULT_EPOCHS))
    result.epochs = epochs
    result.n_outputs = spec.get("n_outputs")
    base_times: list[float] = []

    def limit_for(run_epochs: int) -> tuple[float, str]:
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        return run_limit(plan.run_timeout, base_times, run_epochs, epochs, left)

    def train(arm: str, seed: int, hp: dict[str, Any], run_epochs: int, ch: Change | None):
        """One run: (outcome, payload) or (None, why it failed)."""
        lim, why = limit_for(run_epochs)
        task = {
            "arm": arm,
            "seed": seed,
            "hp": {k: v for k, v in hp.items() if v is not None},
            "epochs": run_epochs,
            "change": ch,
            "log_dir": str(plan.out / "logs" / arm / f"s{seed}"),
            "seconds_left": None if deadline is None else max(deadline - time.monotonic(), 0.0),
            "per_epoch_holdout": plan.metric == "best",
        }
        label = f"{arm} seed {seed}"
        status, payload, wall = worker.train(task, lim)
        if status == "timeout":
            msg = (
                f"{label}: killed after {payload:.0f}s, the wall-clock limit of one run ({why}); "
                "the training hangs (a data generator or a layer that never returns) or is far "
                "slower than the baseline"
            )
        elif status == "done":
            out = _outcome(payload, wall)
            progress.run_done(label, out)
            return out, payload
        else:
            msg = f"{label}: {payload}"
        progress.run_failed(label, msg)
        return None, msg

    # 1. Baselines.
    base_runs: list[RunOutcome] = []
    base_findings: list[list[Finding]] = []
    for i, seed in enumerate(seeds):
        if deadline is not None and time.monotonic() > deadline and base_runs:
            notes.append(f"time budget reached: baseline seeds {seeds[i:]} not run")
            seeds = seeds[:i]
            break
        out, payload = train("baseline", seed, {"seed": seed, "epochs": epochs}, epochs, None)
        if out is None:
            result.failure = (
                f"a baseline run failed, and nothing can be judged without it: {payload}"
            )
            result.failed["baseline"] = payload
            result.seeds = seeds
            return
        base_times.append(out.seconds)
        result.runs.append(out)
        result.judged_on = payload["judged_on"]
        if not out.complete:
            result.failure = (
                f"baseline seed {seed} was cut short by the time budget (--max-minutes "
                f"{plan.max_minutes:g}) after {out.epochs_run} of {epochs} epochs: its curves "
                "cannot be diagnosed or compared, so nothing can be judged. Raise --max-minutes "
                "or lower --epochs"
            )
            result.seeds = seeds
            return
        if not out.val_loss:  # (all NaN is a run that diverged: a problem to diagnose)
            result.failure = (
                f"baseline seed {seed} has no validation curve: {_no_val_reason(payload)}. "
                "verify judges remedies on the validation loss, so nothing can be judged"
            )
            result.seeds = seeds
            return
        base_runs.append(out)
        base_findings.append(diagnose_dir(Path(out.log_dir)))
    result.seeds = seeds
    if result.target is None:
        result.target = target_from_baseline(base_findings)
    target = result.target
    progress.say(f"diagnosis ({target.source}): {target.message}")
    progress.say(f"remedies are judged on {result.judged_on}")

    # 2. Which remedies.
    remedies = list(dict.fromkeys(plan.remedies))
    top = None
    if not remedies:
        top = first_testable(target.remedies)
        if top is None:
            why = (
                "no testable remedy among " + ", ".join(target.remedies)
                if target.remedies
                else "nothing to fix"
            )
            notes.append(f"nothing verified: {why}")
        else:
            remedies = [top]
    else:
        top = remedies[0]
    eff0 = _effective_hp(spec, {"seed": seeds[0], "epochs": epochs})
    by_verifier = honoured_by_verifier(spec["arrays"], spec["compiled"])
    changes = result.changes
    not_applicable = result.not_applicable

    def applicable(rid: str) -> bool:
        try:
            ch = change_for(rid, eff0, epochs)
        except NotTestable as e:
            not_applicable[rid] = e.reason
            return False
        miss = missing_keys(ch, spec["hp_read"], by_verifier)
        if miss:
            not_applicable[rid] = (
                f"the experiment never reads hp[{', '.join(repr(k) for k in miss)}], so this "
                "change would be a silent no-op; honour it in experiment(hp)"
            )
            return False
        changes[rid] = ch
        return True

    remedies = [r for r in remedies if applicable(r)]
    controls: list[str] = []
    if plan.control and plan.n_controls > 0 and remedies:
        rng = random.Random(zlib.crc32(Path(plan.experiment).name.encode()) ^ seeds[0])
        pool = [r for r in TESTABLE if r not in remedies]
        rng.shuffle(pool)
        for r in pool:  # the first applicable ones in a seeded random order
            if len(controls) >= plan.n_controls:
                break
            if applicable(r):
                controls.append(r)
            else:
                not_applicable.pop(r, None)
        if not controls:
            notes.append("no applicable remedy left for the random control")
    result.top = top if top in changes else None
    result.controls = controls
    result.control = controls[0] if controls else None
    arms = remedies + controls
    progress.total = len(seeds) * (1 + len(arms))
    for rid in arms:
        tag = " (random control)" if rid in controls else ""
        progress.say(f"{rid}{tag}: {changes[rid].description}")

    def run_changes(stage: list[Change]) -> None:
        """Train every change of ``stage`` for every seed, seed by seed."""
        for seed in seeds:
            for ch in stage:
                if ch.arm in result.failed:
                    continue
                if deadline is not None and time.monotonic() > deadline:
                    notes.append(f"time budget reached before {ch.arm} seed {seed}")
                    return
                hp = {"seed": seed, "epochs": epochs, **ch.hp}
                out, payload = train(ch.arm, seed, hp, int(hp.get("epochs", epochs)), ch)
                if out is None:
                    result.failed[ch.arm] = payload
                else:
                    result.runs.append(out)

    def judge(ch: Change) -> Verdict:
        control = ch.remedy_id in controls
        if ch.arm in result.failed:
            return failed_verdict(
                ch.remedy_id,
                f"failed: {result.failed[ch.arm]}",
                metric=plan.metric,
                control=control,
                arm=ch.arm,
                dose=ch.dose,
                target_kind=target.kind,
            )
        return decide(
            base_runs,
            [r for r in result.runs if r.arm == ch.arm],
            remedy_id=ch.remedy_id,
            target_kind=target.kind,
            metric=plan.metric,
            min_effect=plan.min_effect,
            control=control,
            arm=ch.arm,
            dose=ch.dose,
        )

    # 3. Remedied runs and controls at their first dose, seed by seed.
    run_changes([changes[r] for r in arms])
    first = {rid: judge(changes[rid]) for rid in arms}

    # 4. The dose ladder of the learning-rate remedies (not the controls).
    for rid in remedies:
        v = first[rid]
        if rid not in LADDER or not plan.ladder:
            continue
        tried = [v]
        while (
            v.verdict in ("improved", "no effect")
            and tried[-1].dose < MAX_DOSE
            and (deadline is None or time.monotonic() < deadline)
        ):
            ch = change_for(rid, eff0, epochs, tried[-1].dose + 1)
            changes[ch.arm] = ch
            progress.total += len(seeds)
            progress.say(f"{rid}: {v.verdict} at the smaller dose; trying {ch.description}")
            run_changes([ch])
            v = judge(ch)
            tried.append(v)
        result.ladder[rid] = tried
        first[rid] = _chosen_dose(tried)

    result.verdicts = [first[r] for r in arms]
    if top is not None and top in remedies and target.remedies and not plan.remedies:
        others = [r for r in target.remedies if r != top and r in TESTABLE]
        if others and not result.helped():
            notes.append(
                "other remedies of the diagnosis, not tried: "
                + ", ".join(others)
                + " (verify them with --remedy)"
            )


def _chosen_dose(tried: list[Verdict]) -> Verdict:
    """The verdict to report for a ladder: the first dose that resolved the problem, else the
    one that improved it most, else the last dose tried; its notes list every dose."""
    pick = next((v for v in tried if v.verdict == "resolved"), None)
    if pick is None:
        improved = [v for v in tried if v.verdict == "improved"]
        pick = min(improved, key=lambda v: v.rel_change) if improved else tried[-1]
    if len(tried) > 1:
        steps = ", ".join(f"x{10**v.dose}: {v.verdict} ({pct(v.rel_change)})" for v in tried)
        note = f"dose ladder (factor 10 per step, stopping at resolved or worse): {steps}"
        from dataclasses import replace

        pick = replace(pick, notes=(*pick.notes, note))
    return pick


def _outcome(payload: dict[str, Any], wall: float) -> RunOutcome:
    """The run's outcome with curvelint's diagnosis of its logs (done here, in the parent)."""
    probs = _problems(diagnose_dir(Path(payload["log_dir"])))
    return RunOutcome(
        arm=payload["arm"],
        seed=payload["seed"],
        val_loss=tuple(payload["val_loss"]),
        train_loss=tuple(payload["train_loss"]),
        end_val_loss=payload["end_val_loss"],
        kinds=tuple(sorted({f.kind for f in probs})),
        codes=tuple(sorted({f.code for f in probs})),
        epochs_run=payload["epochs_run"],
        seconds=wall,
        complete=payload["complete"],
        log_dir=payload["log_dir"],
        holdout_loss=tuple(payload.get("holdout_loss") or ()),
    )
