"""Findings and reports: plain data, with a stable JSON form."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
PROBLEM_KINDS = ("plateau", "oscillation", "overfitting", "divergence")
#: 2: a run carries "setup" and one deduplicated "remedies" list; its findings name their
#: remedies by id (1: each finding carried its remedies in full)
JSON_VERSION = 2
#: how the HTML report writes a fact (``Finding.facts``): "step" (``step 1,200``), "steps" (a
#: length, ``1,200 steps``), "int", "num" (3 significant digits), "value" (in the curve's own
#: units, 4 significant digits), "x" (a ratio, ``×12.5``), "%" (a fraction as a percentage),
#: "+%" (signed), "p" (a p-value), "noise" (``23.9 × the noise``), "text"
FACT_FORMATS = ("step", "steps", "int", "num", "value", "x", "%", "+%", "p", "noise", "text")


def _clean(obj: Any) -> Any:
    """Make evidence JSON-safe: numpy scalars -> python, non-finite floats -> strings."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            obj = obj.item()
        except (ValueError, TypeError):
            return str(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(f"{obj:.6g}")
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


HPARAMS_MAX_KEYS = 200
_HPARAM_TEXT_MAX = 200


def plain_hparams(hp: Mapping[str, Any]) -> dict[str, Any]:
    """A run's hyper-parameters as reports carry them: numbers, booleans, text (up to 200
    characters), None, and short lists of those; numpy scalars become Python ones, non-finite
    numbers the text ``"nan"``/``"inf"``/``"-inf"``; other values (objects, long lists) and keys
    beyond the first 200 are left out. Exact values, unlike evidence (no rounding)."""

    def one(v: Any) -> Any:
        if hasattr(v, "item") and not isinstance(v, (str, bytes)):
            try:
                v = v.item()
            except (ValueError, TypeError):
                return _SKIP
        if v is None or isinstance(v, (bool, int)):
            return v
        if isinstance(v, float):
            if math.isfinite(v):
                return v
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        if isinstance(v, str):
            return v if len(v) <= _HPARAM_TEXT_MAX else v[:_HPARAM_TEXT_MAX] + "…"
        return _SKIP

    out: dict[str, Any] = {}
    for k, v in hp.items():
        if len(out) >= HPARAMS_MAX_KEYS:
            break
        if isinstance(v, (list, tuple)) and len(v) <= 16:
            items = [one(x) for x in v]
            if all(x is not _SKIP for x in items):
                out[str(k)] = items
            continue
        x = one(v)
        if x is not _SKIP:
            out[str(k)] = x
    return out


_SKIP = object()


def step_range(start: int | None, end: int | None = None, *, label: bool = False) -> str:
    """Steps as curvelint prints them everywhere (command line, text and HTML reports):
    ``1,000–2,000``, ``1,000`` for one step (``end`` None or equal), ``-`` for none; with
    ``label``: ``steps 1,000–2,000``, ``step 1,000``, ``""``."""
    if start is None:
        return "" if label else "-"
    one = end is None or end == start
    text = f"{start:,}" if one else f"{start:,}–{end:,}"
    if not label:
        return text
    return ("step " if one else "steps ") + text


#: the frameworks a remedy can give a snippet for, in the order shown when the run's own is
#: unknown; labels for reports
FRAMEWORKS = ("keras", "pytorch", "lightning", "hf")
FRAMEWORK_LABELS = {
    "keras": "Keras",
    "pytorch": "PyTorch",
    "lightning": "Lightning",
    "hf": "Hugging Face Trainer",
}


_TORCH_OPTIMIZERS = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
    "rmsprop": "RMSprop",
    "lbfgs": "LBFGS",
}


def torch_optimizer(name: str | None) -> str | None:
    """The ``torch.optim`` class an optimizer name means (``adamw_torch`` → ``AdamW``, ``sgd``
    → ``SGD``), or None when it names none."""
    if not name:
        return None
    key = re.sub(r"[^a-z]", "", str(name).lower().split(".")[-1])
    for suffix in ("torchfused", "torchxla", "torch", "hf", "fused", "optimizer"):
        if key.endswith(suffix) and key[: -len(suffix)] in _TORCH_OPTIMIZERS:
            key = key[: -len(suffix)]
            break
    return _TORCH_OPTIMIZERS.get(key)


_ORDERS = {
    "keras": ("keras", "pytorch", "lightning", "hf"),
    "pytorch": ("pytorch", "lightning", "hf", "keras"),
    "lightning": ("lightning", "pytorch", "hf", "keras"),
    "hf": ("hf", "pytorch", "lightning", "keras"),
}


@dataclass(frozen=True)
class Setup:
    """How the run was trained, as far as its files tell (analyzer.setup detects it): the
    framework (one of :data:`FRAMEWORKS`, or None when nothing says), the optimizer's name, the
    batch size and the learning rate its settings declare, whether it holds evidence of image
    inputs, and the reasons (``evidence``: short sentences naming what was seen)."""

    framework: str | None = None
    optimizer: str | None = None
    batch_size: int | None = None
    lr: float | None = None
    images: bool = False
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "framework": self.framework,
            "optimizer": self.optimizer,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "images": self.images,
            "evidence": list(self.evidence),
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> Setup:
        d = d or {}
        return cls(
            framework=d.get("framework"),
            optimizer=d.get("optimizer"),
            batch_size=d.get("batch_size"),
            lr=d.get("lr"),
            images=bool(d.get("images", False)),
            evidence=tuple(d.get("evidence", ())),
        )

    @property
    def torch_class(self) -> str | None:
        """The ``torch.optim`` class its optimizer name means, or None."""
        return torch_optimizer(self.optimizer)

    def order(self) -> tuple[str, ...]:
        """The frameworks in the order a report shows their snippets: the run's own first, then
        its kin (a Lightning or Hugging Face model is a PyTorch module, so PyTorch code comes
        before Keras for them)."""
        return _ORDERS.get(self.framework or "", FRAMEWORKS)


@dataclass(frozen=True)
class Remedy:
    """A concrete thing to try, why, and how: a snippet per framework (Keras, PyTorch, Lightning,
    the Hugging Face Trainer; empty when the remedy has none for it)."""

    id: str
    title: str
    why: str
    keras: str = ""
    pytorch: str = ""
    lightning: str = ""
    hf: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "why": self.why,
            "keras": self.keras,
            "pytorch": self.pytorch,
            "lightning": self.lightning,
            "hf": self.hf,
        }

    def snippet(self, framework: str) -> str:
        return str(getattr(self, framework, "")) if framework in FRAMEWORKS else ""

    def snippets(self, order: tuple[str, ...] = FRAMEWORKS) -> list[tuple[str, str]]:
        """(framework, code) of the snippets it has, in ``order`` (``Setup.order()``: the run's
        own framework first)."""
        return [(fw, self.snippet(fw)) for fw in order if self.snippet(fw)]


@dataclass(frozen=True)
class RunRemedy:
    """One entry of a run's remedy list: the remedy and the positions (0-based, in the run's
    findings) of the findings that suggest it."""

    remedy: Remedy
    findings: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.remedy.to_dict(), "findings": list(self.findings)}


def run_remedies(findings: list[Finding]) -> list[RunRemedy]:
    """One remedy list for a run: each remedy once (by id; the version of the first finding that
    suggests it), in the order of the findings it addresses (the run's findings come worst
    first) and, within a finding, in the rule's order."""
    first: dict[str, Remedy] = {}
    where: dict[str, list[int]] = {}
    for i, f in enumerate(findings):
        for r in f.remedies:
            first.setdefault(r.id, r)
            if i not in where.setdefault(r.id, []):
                where[r.id].append(i)
    return [RunRemedy(first[k], tuple(where[k])) for k in first]


def finite_or_none(x: Any) -> float | None:
    """``x`` as a float when it is a finite number, else None (chart marks: rules build them,
    the HTML report draws them)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Mark:
    """What a finding draws on its run's chart, said by the rule that made it (the HTML report
    only renders it). ``shape``: "band" (``start``..``end``), "vline" (at ``start``), "hline"
    (at ``value``, optionally over ``start``..``end``) or "point" (``start``, ``value``).
    ``role`` says what it marks: "plateau", "plateau-level", "oscillation", "onset", "best",
    "nonfinite", "diverge", "asymptote". ``period`` (steps) labels an oscillation band."""

    shape: str
    role: str
    start: float | None = None
    end: float | None = None
    value: float | None = None
    period: float | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    kind: str
    severity: str
    curve: str | None
    start_step: int | None
    end_step: int | None
    confidence: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remedies: tuple[Remedy, ...] = ()
    run: str = ""
    #: problem kinds that, when the same run has a finding of one (warning or worse), explain
    #: this finding away (the engine then drops it); adds to the rule module's DEFERS_TO
    defers_to: tuple[str, ...] = ()
    #: whether the findings that defer to this finding's kind are explained away by it; False
    #: for a state present from the first evaluation on (a validation loss off scale from the
    #: start), whose later ups and downs are not part of it
    supersedes: bool = True
    #: whether the finding may be a passing state of a run still training (a live monitor
    #: announces it only when seen at two consecutive evaluations); the rule module's TRANSIENT
    transient: bool = False
    #: what to draw on the run's chart (see Mark); not part of the JSON form
    marks: tuple[Mark, ...] = ()
    #: the rule's "Why it matters" (its docs), shown on the HTML report's card; not in the JSON
    why: str = ""
    #: the rule's FACTS: (evidence key, label in words, format in FACT_FORMATS), in the order
    #: the HTML report shows them (the first few present in ``evidence``); not in the JSON,
    #: whose evidence keeps the raw keys
    facts: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self):
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r}")

    def sort_key(self):
        return (
            -SEVERITY_RANK[self.severity],
            self.start_step if self.start_step is not None else -1,
            self.code,
            self.curve or "",
        )

    def to_dict(self, *, remedy_ids: bool = False) -> dict[str, Any]:
        """The JSON form; ``remedy_ids``: name the remedies by id (as a run's report does, whose
        ``remedies`` list holds them in full) instead of giving them in full."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "severity": self.severity,
            "curve": self.curve,
            "start_step": None if self.start_step is None else int(self.start_step),
            "end_step": None if self.end_step is None else int(self.end_step),
            "confidence": round(float(self.confidence), 3),
            "message": self.message,
            "evidence": _clean(self.evidence),
            "remedies": [r.id if remedy_ids else r.to_dict() for r in self.remedies],
        }


@dataclass
class RunReport:
    run: str
    format: str
    roles: dict[str, str | None]
    verdict: str  # healthy | problems | insufficient-data
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    role_reasons: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)  # plain_hparams() of the run's
    #: how the run was trained (analyzer.setup): its remedies' snippets come in its order
    setup: Setup = field(default_factory=Setup)

    @property
    def remedies(self) -> list[RunRemedy]:
        """The run's one deduplicated remedy list (:func:`run_remedies`)."""
        return run_remedies(self.findings)

    def worst(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.sort_key()) if self.findings else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "format": self.format,
            "roles": self.roles,
            "verdict": self.verdict,
            "findings": [f.to_dict(remedy_ids=True) for f in self.findings],
            "remedies": [r.to_dict() for r in self.remedies],
            "setup": self.setup.to_dict(),
            "files": self.files,
            "notes": self.notes,
            "role_reasons": self.role_reasons,
            "summary": _clean(self.summary),
            "hparams": dict(self.hparams),
        }


_RUNS_HERE = "@@curvelint: the runs go here@@"


def run_json(run: RunReport) -> str:
    """One run's part of :meth:`Report.to_json` (indent 2), as if on its own."""
    return json.dumps(run.to_dict(), indent=2, allow_nan=False)


class JsonWriter:
    """Writes what ``Report.to_json() + "\\n"`` would be, run by run, to ``out`` (a text file):
    the report of thousands of runs is never held in memory. ``add`` each run's report (or its
    :func:`run_json` text), then ``finish(skipped)``."""

    def __init__(self, out: Any, version: str):
        self.out = out
        self.version = version
        self.runs = 0

    def _doc(
        self, runs: list[Any], skipped: list[dict[str, str]], sweep: dict[str, Any] | None = None
    ) -> str:
        doc = {"version": JSON_VERSION, "curvelint": self.version, "runs": runs, "skipped": skipped}
        if sweep is not None:
            doc["sweep"] = sweep
        return json.dumps(doc, indent=2, allow_nan=False)

    def add(self, run: RunReport | None = None, text: str | None = None) -> None:
        if text is None:
            assert run is not None
            text = run_json(run)
        if self.runs == 0:
            head = self._doc([_RUNS_HERE], [])
            self.out.write(head[: head.index(f'    "{_RUNS_HERE}"')])
        else:
            self.out.write(",\n")
        self.out.write("    " + text.replace("\n", "\n    "))
        self.runs += 1

    def finish(self, skipped: list[dict[str, str]], sweep: dict[str, Any] | None = None) -> None:
        if self.runs == 0:
            self.out.write(self._doc([], list(skipped), sweep) + "\n")
            return
        tail = self._doc([_RUNS_HERE], list(skipped), sweep)
        self.out.write(tail[tail.index(f'    "{_RUNS_HERE}"') + len(_RUNS_HERE) + 6 :] + "\n")


@dataclass
class Report:
    runs: list[RunReport] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    version: str = ""
    #: what the settings of the runs have to do with their problems (analyzer.sweep), when the
    #: runs are a sweep; None otherwise
    sweep: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        doc = {
            "version": JSON_VERSION,
            "curvelint": self.version,
            "runs": [r.to_dict() for r in self.runs],
            "skipped": list(self.skipped),
        }
        if self.sweep is not None:
            doc["sweep"] = self.sweep
        return doc

    def to_json(self, indent: int | None = 2, run_texts: list[str | None] | None = None) -> str:
        """The JSON form. ``run_texts`` (indent 2 only): each run's :func:`run_json` when
        already made (e.g. by the worker that analysed it, or cached), None where not; the text
        is the same, only faster for thousands of runs (Python's indenting encoder is slow)."""
        if indent != 2 or not run_texts or len(run_texts) != len(self.runs) or not self.runs:
            return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        doc = {
            "version": JSON_VERSION,
            "curvelint": self.version,
            "runs": [_RUNS_HERE],
            "skipped": list(self.skipped),
        }
        if self.sweep is not None:
            doc["sweep"] = self.sweep
        head = json.dumps(doc, indent=2, allow_nan=False)
        texts = [
            t if t is not None else run_json(r) for r, t in zip(self.runs, run_texts, strict=True)
        ]
        body = ",\n".join("    " + t.replace("\n", "\n    ") for t in texts)
        return head.replace(f'    "{_RUNS_HERE}"', body, 1)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.runs for f in r.findings]

    def max_severity(self) -> str | None:
        fs = self.findings
        if not fs:
            return None
        return max((f.severity for f in fs), key=SEVERITY_RANK.__getitem__)
