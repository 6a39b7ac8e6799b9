"""Text training logs: what a training script printed (console output saved to a file).

No configuration: the shape of the lines is inferred from the lines themselves. Three families
are recognised, and the one that explains the most lines of the file is used:

* **Keras console output**: a header line ``Epoch 3/50`` followed by progress lines
  ``32/32 [====] - 1s 5ms/step - loss: 0.41 - accuracy: 0.81 - val_loss: 0.45`` (Keras 2) or
  ``32/32 ━━━━ 1s 5ms/step - accuracy: 0.81 - loss: 0.41 - val_…`` (Keras 3), with or without
  ``\\r``/backspace redraws of the bar. The *last* progress line of each epoch holds the epoch's
  values (the redraws before it hold running averages); step = the printed epoch number. An
  epoch whose last line shows fewer batches than the total (the run was stopped mid-epoch) is
  dropped with a note. ``ETA``, ``1s``, ``5ms/step`` are times, not curves.
* **Hugging Face Trainer's printed dicts**: ``{'loss': 0.51, 'grad_norm': 1.2,
  'learning_rate': 4e-05, 'epoch': 0.3}`` and ``{'eval_loss': …, 'epoch': …}``; the final
  ``{'train_runtime': …}`` summary is not a curve. The dicts carry no step: step = the number of
  training dicts printed so far (an evaluation dict takes the step of the training dict before
  it), and ``epoch`` is kept as a tag (an axis, one point per dict).
* **Lines with a counter and name–number pairs**, as ``logging`` or ``print`` write them:
  ``2023-05-15 20:39:04,241 INFO:Epoch 1: Train Loss=0.0218, Val Loss=0.0230``,
  ``Epoch [3/30] TrainLoss=0.41 TrainAcc=0.8 ValLoss=0.5``, ``Epoch 1/200 | Loss: 0.6924``,
  ``step 100: loss 2.31, lr 3e-4``, ``Iteration 500, loss = 0.3``. The counter is an epoch or a
  step (``step``, ``global_step``, ``iter``/``iteration``, ``batch``, ``update``); pairs are
  ``name: x``, ``name=x``, ``name x`` (names of up to three words), values may be ``nan``/``inf``
  or ``tensor(0.53, device='cuda:0')``. A number followed by a unit (``12.3s``, ``5ms/step``,
  ``3.2it/s``) is a time or a speed and is not read; ``81.2%`` is read as 81.2.

A file is a training log only when enough lines share one shape: at least :data:`MIN_LINES`
lines with the same counter and the same names, one of them loss-like. Other lines (warnings,
tracebacks, progress bars, checkpoint messages) are ignored and counted in a note; lines of
another shape with the same counter and only metric-like names are read too (an evaluation line
printed once per epoch beside the training lines). When the step counter restarts at every
epoch (``Epoch 3 [100/500]``-style batch counters), the global step is rebuilt from the epoch and
the batch total.

Tag names are normalised so that the roles machinery understands them: camel case split,
lower case, spaces and hyphens to underscores (``Train Loss`` and ``TrainLoss`` ->
``train_loss``, ``Val Acc`` -> ``val_acc``); Keras and Hugging Face names are kept as printed.
Epochs or steps that go back (a resumed run appended to the same file) are resolved by
:func:`~analyzer.readers.base.apply_restarts`. The note ``line shape: …`` says what was inferred.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .text import binary_reason, decode_text, normalise_newlines, strip_nul_tail

FORMAT = "text"
#: lines of one shape needed before a file counts as a training log
MIN_LINES = 3
#: Keras: progress lines (after an ``Epoch n/N`` header) needed when only one header was seen
MIN_KERAS_PROGRESS = 3

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf(?:inity)?)\b"
_NAME = r"[A-Za-z_][\w./@-]*"
_PAIR_RE = re.compile(
    rf"(?<![\w./@-])(?P<name>{_NAME}(?:[ ]{_NAME}){{0,2}}?)"
    rf"\s*(?:[:=]\s*|\s)\s*(?:tensor\(\s*)?(?P<val>{_NUM})(?P<unit>%|[A-Za-z]+(?:/[A-Za-z]+)?)?"
    r"(?![\w.])",
    re.IGNORECASE,
)
_COUNTER_RE = re.compile(
    r"(?<![\w/.])(?P<kind>epochs?|global[ _]?step|steps?|iterations?|iters?|batch|updates?)"
    r"\b[ \t]*(?:[:=#][ \t]*)?(?:[\[(][ \t]*)?(?P<n>\d+)(?![\d.])"
    r"(?:[ \t]*(?:/|of)[ \t]*(?P<total>\d+))?",
    re.IGNORECASE,
)
_KERAS_HEADER_RE = re.compile(r"^\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$")
_KERAS_PROGRESS_RE = re.compile(r"^\s*(\d+)/(\d+|Unknown)\b")
_TENSOR_RE = re.compile(rf"tensor\(\s*({_NUM})[^()]*\)", re.IGNORECASE)
_BRACKET_BATCH_RE = re.compile(
    r"[ \t]*\][ \t]*\[[ \t]*(?P<n>\d+)[ \t]*/[ \t]*(?P<total>\d+)[ \t]*\]"
)
_ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_DICT_RE = re.compile(r"\{\s*['\"][A-Za-z_][^{}]*\}")
_DICT_PAIR_RE = re.compile(rf"['\"]([^'\"]+)['\"]\s*:\s*(?:tensor\(\s*)?({_NUM})(?![\w.])", re.I)
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")
_LOSSY_RE = re.compile(
    r"loss|(?:^|_)(?:mse|mae|rmse|nll|bce|ce|xent|cross_?entropy|perplexity|ppl|kld?|elbo)(?:_|$)",
    re.IGNORECASE,
)
_METRICISH_RE = re.compile(
    r"loss|acc|lr|learning|f1|map|precision|recall|auc|err|score|perplex|ppl|bleu|rouge|iou|dice|"
    r"mse|mae|top|grad|norm|kl|nll|psnr|ssim|wer|cer|entropy|reward|^(?:train|val|valid|eval|test)",
    re.IGNORECASE,
)
# words that make a "name" a phrase of a message, not a logged quantity
_STOP_WORDS = {
    "from", "to", "in", "of", "at", "for", "with", "after", "took", "improved", "reducing",
    "saving", "did", "not", "is", "was", "than", "by", "on", "the", "and", "per", "best", "eta",
    "remaining", "total", "max", "epoch", "epochs", "step", "steps",
}  # fmt: skip
_HF_SUMMARY = {"train_runtime", "total_flos", "train_samples_per_second", "train_steps_per_second"}


def tag_name(name: str) -> str:
    """A printed name as a tag the roles understand: ``Train Loss``/``TrainLoss`` ->
    ``train_loss``, ``Val-Acc`` -> ``val_acc``."""
    s = _CAMEL_RE.sub(" ", name.strip())
    return re.sub(r"[\s\-]+", "_", s).lower()


def _number(text: str) -> float:
    t = text.lower().lstrip("+")
    if t in ("nan", "-nan"):
        return float("nan")
    return float(t)


def _pairs(text: str) -> list[tuple[str, float, int, int]]:
    """(tag, value, start, end of the value) of every name–number pair in ``text``."""
    out = []
    for m in _PAIR_RE.finditer(text):
        unit = m.group("unit")
        if unit and unit != "%":
            continue  # 12.3s, 5ms/step, 3.2it/s: a time or a speed
        words = m.group("name").lower().split()
        if any(w in _STOP_WORDS for w in words):
            continue
        try:
            value = _number(m.group("val"))
        except ValueError:
            continue
        out.append((tag_name(m.group("name")), value, m.start("val"), m.end("val")))
    return out


@dataclass
class _Line:
    index: int  # line number (0-based)
    kind: str  # "epoch" or "step"
    epoch: int | None
    step: int | None
    total: int | None  # the counter's total (Epoch 3/50 -> 50), for the step counter if any
    values: dict[str, float]
    template: str

    @property
    def shape(self) -> tuple[str, tuple[str, ...]]:
        return self.kind, tuple(sorted(self.values))


def _template(line: str, start: int, spans: list[tuple[int, int, str]]) -> str:
    """The line from ``start`` (the first counter) with counters and values replaced by
    placeholders."""
    out, pos = [], start
    for s, e, what in sorted(spans):
        if s < pos:
            continue
        out.append(line[pos:s])
        out.append(what)
        pos = e
    out.append(line[pos:])
    text = "".join(out).strip()
    if start > 0 and line[:start].strip():
        text = "… " + text
    return text if len(text) <= 100 else text[:99] + "…"


@dataclass
class _Counter:
    n: int
    total: int | None
    start: int  # of the keyword
    end: int
    spans: list[tuple[int, int, str]]  # placeholders for the template


def _counter(m: re.Match, what: str) -> _Counter:
    spans = [(m.start("n"), m.end("n"), what)]
    if m.group("total"):
        spans.append((m.start("total"), m.end("total"), "<N>"))
    total = int(m.group("total")) if m.group("total") else None
    return _Counter(int(m.group("n")), total, m.start(), m.end(), spans)


def parse_counter_line(index: int, line: str) -> _Line | None:
    """One line with an epoch/step counter and name–number pairs, or None."""
    if "tensor(" in line:
        line = _TENSOR_RE.sub(r"\1", line)
    epoch: _Counter | None = None
    step: _Counter | None = None
    for m in _COUNTER_RE.finditer(line):
        if m.group("kind").lower().startswith("epoch"):
            epoch = epoch or _counter(m, "<epoch>")
        else:
            step = step or _counter(m, "<step>")
    if epoch is not None and step is None:
        b = _BRACKET_BATCH_RE.match(line, epoch.end)
        if b:  # "Epoch: [3][100/500]": the batch within the epoch
            step = _Counter(
                int(b.group("n")),
                int(b.group("total")),
                b.start("n"),
                b.end(),
                [(b.start("n"), b.end("n"), "<batch>"), (b.start("total"), b.end("total"), "<N>")],
            )
    if epoch is None and step is None:
        return None
    counters = [c for c in (epoch, step) if c is not None]
    rest = line
    for c in counters:
        rest = rest[: c.start] + " " * (c.end - c.start) + rest[c.end :]
    first = min(c.start for c in counters)
    every = _pairs(rest)
    # pairs after the counter; those before it only when they hold the loss (a log prefix
    # such as "train.py:123" is not a curve)
    pairs = [p for p in every if p[2] >= first]
    if not any(_LOSSY_RE.search(t) for t, *_ in pairs):
        pairs = every
    if not pairs:
        return None
    values: dict[str, float] = {}
    for t, v, _, _ in pairs:
        values.setdefault(t, v)
    spans = [(s, e, "<x>") for _, _, s, e in pairs]
    for c in counters:
        spans.extend(c.spans)
    main = step or epoch
    assert main is not None
    return _Line(
        index,
        "step" if step is not None else "epoch",
        epoch.n if epoch else None,
        step.n if step else None,
        main.total,
        values,
        _template(line, min(first, min(p[2] for p in pairs)), spans),
    )


@dataclass
class Parsed:
    """What a text log holds: points (tag, step, value) in logged order, the inferred shape."""

    family: str  # "keras", "hf", "lines"
    shape: str
    axis: str  # what the step is
    tags: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    lines_used: int = 0
    lines_ignored: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, step: int, values: dict[str, float]) -> None:
        for t, v in values.items():
            self.tags.append(t)
            self.steps.append(step)
            self.values.append(v)


# ---------------------------------------------------------------------------------------------
# the three families


def _keras(lines: list[str], complete: bool) -> Parsed | None:
    """Keras console output; ``complete`` says the lines are the whole file (the last epoch
    may then be judged unfinished)."""
    blocks: list[tuple[int, int, int, str | None]] = []  # epoch, total, header line, last line
    progress = 0
    cur: list | None = None
    for i, ln in enumerate(lines):
        m = _KERAS_HEADER_RE.match(ln)
        if m:
            cur = [int(m.group(1)), int(m.group(2)), i, None]
            blocks.append(cur)  # type: ignore[arg-type]
            continue
        if cur is not None and "loss" in ln and _KERAS_PROGRESS_RE.match(ln):
            cur[3] = ln
            progress += 1
    with_values = [b for b in blocks if b[3] is not None]
    if not with_values or not (
        (len(with_values) >= 2 and progress >= 2) or progress >= MIN_KERAS_PROGRESS
    ):
        return None
    out = Parsed("keras", "", "the printed epoch (Epoch n/N)")
    shape = ""
    for k, (epoch, _total, _hdr, last) in enumerate(blocks):
        if last is None:
            continue
        pm = _KERAS_PROGRESS_RE.match(last)
        assert pm is not None
        done, of = pm.group(1), pm.group(2)
        if of != "Unknown" and int(done) < int(of):
            if complete and k == len(blocks) - 1:
                out.notes.append(
                    f"epoch {epoch} stopped after {done}/{of} batches: its running values "
                    "are not read"
                )
            continue
        pairs = _pairs(last[pm.end() :])
        if not pairs:
            continue
        values: dict[str, float] = {}
        for t, v, _, _ in pairs:
            values.setdefault(t, v)
        if not shape:
            body = re.sub(_NUM, "<x>", last[pm.end() :].strip(), flags=re.IGNORECASE)
            shape = f'"Epoch <n>/<N>" then a progress line "<b>/<B> {body}"'
            if len(shape) > 140:
                shape = shape[:139] + '…"'
        out.add(epoch, values)
        out.lines_used += 1
    if not out.lines_used:
        return None
    out.shape = "Keras console output: " + shape
    return out


def _hf(lines: list[str]) -> Parsed | None:
    """Hugging Face Trainer's printed dicts."""
    out = Parsed("hf", "", "the count of training dicts printed (they carry no step)")
    step = 0
    seen_train = False
    summaries = 0
    for ln in lines:
        if "{" not in ln:
            continue
        for m in _DICT_RE.finditer(ln):
            pairs = _DICT_PAIR_RE.findall(m.group(0))
            keys = [k for k, _ in pairs]
            if not pairs or not any(_LOSSY_RE.search(k) for k in keys) and "epoch" not in keys:
                continue
            if any(k in _HF_SUMMARY for k in keys):
                summaries += 1
                continue
            is_eval = all(k.startswith(("eval_", "test_")) or k == "epoch" for k in keys)
            if not is_eval:
                step += 1
                seen_train = True
            values: dict[str, float] = {}
            for k, v in pairs:
                try:
                    values.setdefault(k, _number(v))
                except ValueError:
                    continue
            if not any(_LOSSY_RE.search(k) for k in values):
                continue
            out.add(step if seen_train else 0, values)
            out.lines_used += 1
    if out.lines_used < MIN_LINES:
        return None
    if summaries:
        out.notes.append(f"{summaries} final summary dict(s) ({{'train_runtime': …}}) not curves")
    out.shape = (
        "Hugging Face Trainer's printed dicts {'loss': <x>, …, 'epoch': <x>} and "
        "{'eval_loss': <x>, …}"
    )
    return out


_NO_COUNTER = "no line with an epoch/step counter"


def _why_not(candidates: list[_Line]) -> str:
    lossy = [c for c in candidates if any(_LOSSY_RE.search(t) for t in c.values)]
    if not candidates:
        return f"{_NO_COUNTER} and name-number pairs"
    if not lossy:
        return (
            f"{len(candidates)} line(s) with an epoch/step counter and numbers, but none with "
            "a loss-like value"
        )
    best = Counter(c.shape for c in lossy).most_common(1)[0][1]
    return (
        f"only {best} line(s) of one shape (an epoch/step counter with a loss-like value); "
        f"a training log needs {MIN_LINES}"
    )


def _counter_lines(lines: list[str]) -> tuple[Parsed | None, str]:
    cands = []
    for i, ln in enumerate(lines):
        if len(ln) > 4000 or not any(ch.isdigit() for ch in ln):
            continue
        c = parse_counter_line(i, ln)
        if c is not None:
            cands.append(c)
    lossy = Counter(c.shape for c in cands if any(_LOSSY_RE.search(t) for t in c.values))
    if not lossy:
        return None, _why_not(cands)
    (kind, names), count = lossy.most_common(1)[0]
    if count < MIN_LINES:
        return None, _why_not(cands)
    counts = Counter(c.shape for c in cands)
    accepted = [
        c
        for c in cands
        if c.shape == (kind, names)
        or (
            counts[c.shape] >= 2
            and (c.kind == kind or (kind == "step" and c.kind == "epoch"))
            and all(_METRICISH_RE.search(t) for t in c.values)
        )
    ]
    first = next(c for c in accepted if c.shape == (kind, names))
    out = Parsed("lines", f'lines "{first.template}"', "")
    steps = _global_steps(accepted, kind, out)
    for c, s in zip(accepted, steps, strict=True):
        if s is None:
            continue
        out.add(s, c.values)
        out.lines_used += 1
    if len(accepted) > 1 and len({c.shape for c in accepted}) > 1:
        others = sorted({c.template for c in accepted if c.shape != (kind, names)})[:2]
        out.shape += " and " + " / ".join(f'"{t}"' for t in others)
    return out, ""


def _global_steps(lines: list[_Line], kind: str, out: Parsed) -> list[int | None]:
    """The step of each accepted line on one axis (epoch or step)."""
    if kind == "epoch":
        out.axis = "the epoch counter"
        return [c.epoch for c in lines]
    out.axis = "the step counter"
    # a step counter that restarts where the epoch moves on counts batches within an epoch
    seq = [(c.epoch, c.step, c.total) for c in lines if c.step is not None]
    backs = [(a, b) for a, b in zip(seq, seq[1:], strict=False) if b[1] < a[1]]
    within = bool(backs) and all(
        a[0] is not None and b[0] is not None and b[0] > a[0] for a, b in backs
    )
    steps: list[int | None] = []
    last: int | None = None
    if within:
        totals = {c.total for c in lines if c.step is not None}
        if len(totals) == 1 and None not in totals:
            (total,) = totals
            e0 = min(c.epoch for c in lines if c.epoch is not None)
            out.axis = f"(epoch - {e0}) * {total} + the batch counter (it restarts every epoch)"
            for c in lines:
                if c.step is not None and c.epoch is not None:
                    last = (c.epoch - e0) * total + c.step  # type: ignore[operator]
                steps.append(last)
            return steps
        out.axis = "the line count (the batch counter restarts every epoch, its total unknown)"
        n = 0
        for c in lines:
            if c.step is not None:
                n += 1
                last = n
            steps.append(last)
        return steps
    for c in lines:
        if c.step is not None:
            last = c.step
        steps.append(last)  # an epoch-only line takes the step of the line before
    return steps


def parse_lines(lines: list[str], complete: bool = True) -> tuple[Parsed | None, str]:
    """The best reading of a text log's lines, or (None, why it is not a training log)."""
    found: list[Parsed] = []
    for p in (_keras(lines, complete), _hf(lines)):
        if p is not None:
            found.append(p)
    generic, why = _counter_lines(lines)
    if generic is not None:
        found.append(generic)
    if not found:
        return None, why
    best = max(found, key=lambda p: p.lines_used)
    return best, ""


# ---------------------------------------------------------------------------------------------
# files


def _terminal_bytes_out(raw: bytes) -> bytes:
    """Backspaces (Keras 2 redraws) and ANSI colour codes (Keras 3, rich, tqdm) removed."""
    if b"\x08" in raw:
        raw = raw.replace(b"\x08", b"")
    if b"\x1b" in raw:
        raw = _ANSI_RE.sub(b"", raw)
    return raw


def text_lines(raw: bytes) -> list[str]:
    """Bytes to lines: NUL tail, BOMs, ``\\r`` redraws, backspaces, colour codes handled."""
    raw, _ = strip_nul_tail(raw)
    return normalise_newlines(decode_text(_terminal_bytes_out(raw))).split("\n")


def sniff_lines(lines: list[str], complete: bool) -> tuple[bool, str, bool]:
    """Whether lines (of a file's head) are a text training log: ``(True, shape, True)``, or
    ``(False, why not, near)`` where ``near`` says some line had a counter and numbers (the
    reason is then worth showing; for other text it is not)."""
    parsed, why = parse_lines(lines, complete)
    if parsed is None:
        return False, f"not a text training log: {why}", not why.startswith(_NO_COUNTER)
    return True, parsed.shape, True


def sniff_head(raw: bytes, truncated: bool) -> tuple[bool, str, bool]:
    """:func:`sniff_lines` on a file's first bytes (``truncated``: the file goes on)."""
    probe, _ = strip_nul_tail(_terminal_bytes_out(raw))
    if not probe.strip():
        return False, "only blank lines or NUL bytes", True
    why = binary_reason(probe)
    if why:
        return False, why.replace(", not a text table", ""), False
    lines = text_lines(probe)
    if truncated and len(lines) > 1:
        lines = lines[:-1]
    return sniff_lines(lines, complete=not truncated)
