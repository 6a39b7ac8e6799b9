"""Train the baseline and the remedied runs with Keras, log them, diagnose them, decide.

The only module of ``analyzer.verify`` that imports TensorFlow, and only inside functions, so
``curvelint`` works without it. Every run:

1. seeds Python, NumPy and TensorFlow with the run's seed (``keras.utils.set_random_seed``), so the
   baseline and a remedy share initial weights and data order within a seed;
2. calls ``experiment(hp)`` (see :mod:`analyzer.verify.experiment`), compiles the model if needed;
3. trains with the same epoch budget, the remedy's callbacks, ``TerminateOnNaN``, a time-budget
   callback, and Keras' own ``TensorBoard`` callback writing to ``OUT/logs/<arm>/s<seed>``;
4. evaluates the weights training ended with on the validation data (this counts restored best
   weights), and diagnoses the written logs with curvelint's engine (``runs.load`` + rules).

Runs go seed by seed (baseline for all seeds first, it decides what to verify), so a time budget
that runs out leaves complete pairs rather than one arm finished and the other not started.
"""

from __future__ import annotations

import math
import random
import shutil
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..findings import SEVERITY_RANK, Finding
from .decide import RunOutcome, Verdict, decide, pick_target
from .experiment import ExperimentError, ExperimentSpec, call_experiment, load_experiment
from .remedies import (
    DEFAULT_BATCH,
    DEFAULT_LR,
    TESTABLE,
    Change,
    NotTestable,
    change_for,
    first_testable,
    honoured_by_verifier,
    missing_keys,
)

DEFAULT_EPOCHS = 30
MARKER = ".curvelint-verify"
TF_HINT = "verify needs TensorFlow: pip install 'curvelint[tf]'  (or tensorflow-cpu)"


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
    seeds: Sequence[int] = (0, 1)
    epochs: int | None = None
    remedies: Sequence[str] = ()
    run: Path | None = None
    control: bool = True
    n_controls: int = 1  # random control remedies (the benchmark uses more for a steadier rate)
    max_minutes: float | None = None
    metric: str = "end"
    min_effect: float = 0.02


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
    """Everything a verification produced, for the JSON, text and HTML outputs."""

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

    def baseline_seconds(self) -> float:
        """Mean wall time of one complete baseline run."""
        t = [r.seconds for r in self.runs if r.arm == "baseline" and r.complete]
        return sum(t) / len(t) if t else math.nan

    def verdict_for(self, remedy: str | None) -> Verdict | None:
        return next((v for v in self.verdicts if v.remedy == remedy), None)

    def to_dict(self) -> dict[str, Any]:
        b = self.baseline_seconds()
        return {
            "version": 1,
            "experiment": self.experiment,
            "out": self.out,
            "epochs": self.epochs,
            "seeds": list(self.seeds),
            "metric": self.metric,
            "target": self.target.to_dict() if self.target else None,
            "top_remedy": self.top,
            "control": self.control,
            "controls": list(self.controls),
            "changes": {k: c.to_dict() for k, c in self.changes.items()},
            "not_applicable": dict(self.not_applicable),
            "verdicts": [v.to_dict() for v in self.verdicts],
            "runs": [r.to_dict() for r in self.runs],
            "seconds": round(self.seconds, 2),
            "baseline_seconds": None if math.isnan(b) else round(b, 2),
            "relative_time": None if math.isnan(b) or b <= 0 else round(self.seconds / b, 2),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------------------
# Output folder
# ------------------------------------------------------------------------------------------


def prepare_out(out: Path, user_logs: Path | None) -> None:
    """Create the output folder; refuse the user's log folder or a foreign non-empty folder."""
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
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise VerifyError(
            f"-o {out} is a non-empty folder not made by curvelint verify; choose another"
        )
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
    """The problem most baseline seeds show as their worst, with that finding's remedies."""
    worst = [
        min(_problems(fs), key=Finding.sort_key) if _problems(fs) else None
        for fs in findings_by_seed
    ]
    kind = pick_target([w.kind if w else None for w in worst])
    if kind is None:
        return Target(None, None, "no problem found in the baseline runs", "baseline")
    f = next(w for w in worst if w is not None and w.kind == kind)
    n = sum(1 for w in worst if w is not None and w.kind == kind)
    return Target(
        kind,
        f.code,
        f"{f.message} ({n}/{len(worst)} seeds)",
        "baseline",
        [r.id for r in f.remedies],
    )


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


class Progress:
    """Progress lines on stderr: per epoch on a terminal, per run otherwise."""

    def __init__(self, stream: TextIO | None = None, total: int = 0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total = total
        self.done = 0

    def epoch(self, label: str, epoch: int, epochs: int, logs: dict[str, Any]) -> None:
        if not self.tty:
            return
        loss, val = logs.get("loss", math.nan), logs.get("val_loss", math.nan)
        self.stream.write(
            f"\r  [{self.done + 1}/{self.total}] {label}: epoch {epoch}/{epochs} "
            f"loss {loss:.4g} val_loss {val:.4g}   "
        )
        self.stream.flush()

    def run_done(self, label: str, out: RunOutcome) -> None:
        self.done += 1
        if self.tty:
            self.stream.write("\r")
        kinds = ", ".join(out.kinds) or "healthy"
        cut = "" if out.complete else " (cut short by the time budget)"
        self.stream.write(
            f"  [{self.done}/{self.total}] {label}: {out.epochs_run} epochs in {out.seconds:.1f}s, "
            f"val loss end {out.metric('end'):.4g} best {out.best_val_loss:.4g}; {kinds}{cut}\n"
        )
        self.stream.flush()

    def say(self, text: str) -> None:
        self.stream.write(f"curvelint verify: {text}\n")
        self.stream.flush()


def _optimizer(keras: Any, hp: dict[str, Any]) -> Any:
    name = str(hp.get("optimizer") or "adam").lower()
    cfg: dict[str, Any] = {"learning_rate": float(hp.get("learning_rate") or DEFAULT_LR)}
    for k in ("beta_1", "beta_2", "epsilon", "momentum", "clipnorm"):
        if hp.get(k) is not None:
            cfg[k] = hp[k]
    try:
        return keras.optimizers.get({"class_name": name, "config": cfg})
    except (ValueError, TypeError) as e:
        raise ExperimentError(f"cannot build optimizer {name!r} with {cfg}: {e}") from e


def _callbacks(keras: Any, change: Change | None) -> list[Any]:
    out: list[Any] = []
    for name, kw in change.callbacks if change else ():
        if name == "reduce_lr_on_plateau":
            out.append(keras.callbacks.ReduceLROnPlateau(**kw))
        elif name == "early_stopping":
            out.append(keras.callbacks.EarlyStopping(**kw))
        elif name == "warmup":
            out.append(_warmup(keras, int(kw["epochs"])))
        else:  # pragma: no cover - remedies.py and this list go together
            raise ValueError(f"unknown callback {name!r}")
    return out


def _warmup(keras: Any, epochs: int) -> Any:
    class Warmup(keras.callbacks.Callback):
        """Linear warm-up from 1/10 of the learning rate to the full one over ``epochs`` epochs."""

        def on_train_begin(self, logs=None):
            self.target = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

        def on_epoch_begin(self, epoch, logs=None):
            if epoch <= epochs:
                frac = 0.1 + 0.9 * min(1.0, epoch / epochs)
                self.model.optimizer.learning_rate.assign(self.target * frac)

    return Warmup()


def _standardise(x_train: Any, x_val: Any) -> tuple[Any, Any]:
    import numpy as np

    xt, xv = np.asarray(x_train, dtype="float32"), np.asarray(x_val, dtype="float32")
    mu, sd = xt.mean(axis=0), xt.std(axis=0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    return (xt - mu) / sd, (xv - mu) / sd


def train_one(
    fn: Callable[[dict], dict],
    *,
    arm: str,
    seed: int,
    hp: dict[str, Any],
    epochs: int,
    change: Change | None,
    log_dir: Path,
    deadline: float | None,
    progress: Progress,
) -> tuple[RunOutcome, ExperimentSpec, list[Finding]]:
    """Train one run; return its outcome (curves, end loss, curvelint's problem kinds), the
    checked experiment spec and curvelint's findings on its logs."""
    import keras
    import numpy as np

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    spec = call_experiment(fn, hp)
    model = spec.model
    if not spec.compiled:
        model.compile(optimizer=_optimizer(keras, hp), **spec.compile)
    if log_dir.exists():
        shutil.rmtree(log_dir)
    log_dir.mkdir(parents=True)

    label = f"{arm} seed {seed}"
    state = {"cut": False}

    class Watch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if deadline is not None and time.monotonic() > deadline:
                state["cut"] = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            progress.epoch(label, epoch + 1, epochs, logs or {})

    callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False),
        keras.callbacks.TerminateOnNaN(),
        Watch(),
        *_callbacks(keras, change),
    ]
    fit = dict(spec.fit)
    if spec.arrays:
        (x, y), (vx, vy) = spec.train, spec.val
        if hp.get("normalize_inputs") and "normalize_inputs" not in spec.hp_read:
            x, vx = _standardise(x, vx)
        fit.setdefault(
            "batch_size",
            int(hp.get("batch_size") or spec.hp_defaults.get("batch_size") or DEFAULT_BATCH),
        )
        val = (vx, vy)
        args: dict[str, Any] = {"x": x, "y": y, "validation_data": val}
    else:
        val = spec.val
        fit.setdefault("shuffle", False)  # a dataset shuffles itself; Keras would warn
        args = {"x": spec.train, "validation_data": val}
    t0 = time.monotonic()
    hist = model.fit(**args, epochs=epochs, verbose=0, callbacks=callbacks, **fit)
    seconds = time.monotonic() - t0
    if spec.arrays:
        ev = model.evaluate(val[0], val[1], verbose=0, batch_size=fit.get("batch_size", 32))
    else:
        ev = model.evaluate(val, verbose=0)
    end = float(np.ravel(ev)[0])
    h = hist.history
    findings = diagnose_dir(log_dir)
    probs = _problems(findings)
    outcome = RunOutcome(
        arm=arm,
        seed=seed,
        val_loss=tuple(float(v) for v in h.get("val_loss", [])),
        train_loss=tuple(float(v) for v in h.get("loss", [])),
        end_val_loss=end,
        kinds=tuple(sorted({f.kind for f in probs})),
        codes=tuple(sorted({f.code for f in probs})),
        epochs_run=len(h.get("loss", [])),
        seconds=seconds,
        complete=not state["cut"],
        log_dir=str(log_dir),
    )
    progress.run_done(label, outcome)
    return outcome, spec, findings


def _effective_hp(spec: ExperimentSpec, hp: dict[str, Any]) -> dict[str, Any]:
    """What the run actually used: the verifier's values over the experiment's defaults."""
    eff = {**spec.hp_defaults, **{k: v for k, v in hp.items() if v is not None}}
    if not spec.compiled:
        eff.setdefault("learning_rate", DEFAULT_LR)
        eff.setdefault("optimizer", "adam")
    return eff


def verify(plan: Plan, stream: TextIO | None = None) -> VerifyResult:
    """Run the whole verification described by ``plan``; see the module docstring."""
    require_tf()
    t_start = time.monotonic()
    deadline = t_start + plan.max_minutes * 60 if plan.max_minutes else None
    if not plan.seeds:
        raise VerifyError("--seeds must be at least 1")
    for r in plan.remedies:
        if r not in TESTABLE:
            try:
                change_for(r, {}, DEFAULT_EPOCHS)
            except NotTestable as e:
                raise VerifyError(f"remedy {e.remedy_id} cannot be verified: {e.reason}") from e
            except KeyError as e:
                raise VerifyError(str(e.args[0])) from e
    fn = load_experiment(plan.experiment)
    prepare_out(plan.out, plan.run)
    progress = Progress(stream, total=len(plan.seeds))
    seeds = list(plan.seeds)
    target = target_from_run(plan.run) if plan.run else None

    # 1. Baselines.
    base_runs: list[RunOutcome] = []
    base_findings: list[list[Finding]] = []
    spec0: ExperimentSpec | None = None
    epochs = plan.epochs or DEFAULT_EPOCHS
    notes: list[str] = []
    for i, seed in enumerate(seeds):
        if deadline is not None and time.monotonic() > deadline and base_runs:
            notes.append(f"time budget reached: baseline seeds {seeds[i:]} not run")
            seeds = seeds[:i]
            break
        hp = {"seed": seed}
        if i == 0 and plan.epochs is None:
            # Let the experiment's own default epochs count, if it reads one.
            probe = call_experiment(fn, {"seed": seed})
            epochs = int(probe.hp_defaults.get("epochs", DEFAULT_EPOCHS))
        hp["epochs"] = epochs
        out, spec, findings = train_one(
            fn,
            arm="baseline",
            seed=seed,
            hp=hp,
            epochs=epochs,
            change=None,
            log_dir=plan.out / "logs" / "baseline" / f"s{seed}",
            deadline=deadline,
            progress=progress,
        )
        spec0 = spec0 or spec
        base_runs.append(out)
        base_findings.append(findings)
    assert spec0 is not None
    if target is None:
        target = target_from_baseline(base_findings)
    progress.say(f"diagnosis ({target.source}): {target.message}")

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
    eff0 = _effective_hp(spec0, {"seed": seeds[0], "epochs": epochs})
    by_verifier = honoured_by_verifier(spec0.arrays, spec0.compiled)
    changes: dict[str, Change] = {}
    not_applicable: dict[str, str] = {}

    def applicable(rid: str) -> bool:
        try:
            ch = change_for(rid, eff0, epochs)
        except NotTestable as e:
            not_applicable[rid] = e.reason
            return False
        miss = missing_keys(ch, spec0.hp_read, by_verifier)
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
    control = controls[0] if controls else None
    arms = remedies + controls
    progress.total = len(seeds) * (1 + len(arms))
    for rid in arms:
        tag = " (random control)" if rid in controls else ""
        progress.say(f"{rid}{tag}: {changes[rid].description}")

    # 3. Remedied runs, seed by seed.
    runs = list(base_runs)
    stop = False
    for seed in seeds:
        for rid in arms:
            if deadline is not None and time.monotonic() > deadline:
                notes.append(f"time budget reached before {rid} seed {seed}")
                stop = True
                break
            ch = changes[rid]
            hp = {"seed": seed, "epochs": epochs, **ch.hp}
            run_epochs = int(hp.get("epochs", epochs))
            out, _, _ = train_one(
                fn,
                arm=rid,
                seed=seed,
                hp={k: v for k, v in hp.items() if v is not None},
                epochs=run_epochs,
                change=ch,
                log_dir=plan.out / "logs" / rid / f"s{seed}",
                deadline=deadline,
                progress=progress,
            )
            runs.append(out)
        if stop:
            break

    verdicts = [
        decide(
            base_runs,
            [r for r in runs if r.arm == rid],
            remedy_id=rid,
            target_kind=target.kind,
            metric=plan.metric,
            min_effect=plan.min_effect,
            control=rid in controls,
        )
        for rid in arms
    ]
    return VerifyResult(
        experiment=str(plan.experiment),
        out=str(plan.out),
        epochs=epochs,
        seeds=seeds,
        metric=plan.metric,
        target=target,
        top=top if top in changes else None,
        control=control,
        controls=controls,
        changes=changes,
        not_applicable=not_applicable,
        runs=runs,
        verdicts=verdicts,
        seconds=time.monotonic() - t_start,
        notes=notes,
    )
