"""Which curve is the training loss, the validation loss, a metric, the learning rate.

Real logs name the same thing in many ways (``loss``/``val_loss``, ``train_loss``, ``loss/train``,
``Loss/validation``, ``train/box_loss``, ``epoch_loss`` under ``train/`` and ``validation/``,
``eval_loss``, ``mean_loss`` ...). Each tag is split into word tokens; tokens name the *split*
(train / validation / test), the *kind* (loss, learning rate, a metric and its direction) and what is
left (the "core", used to pair a validation curve with the training curve it belongs to).

The choice of the primary training and validation loss is always explained (``reasons``), and the
user can override it (``--train-loss`` / ``--val-loss`` or ``[tool.curvelint] train-loss``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TRAIN_TOKENS = {"train", "training", "tr", "trn"}
VAL_TOKENS = {"val", "valid", "validation", "eval", "evaluation", "dev", "vali", "validate"}
TEST_TOKENS = {"test", "testing"}
LR_NAMES = {"lr", "learningrate", "learning_rate", "lr0", "lr1", "lr2", "pg0", "pg1", "pg2"}
# metric words -> direction
MAX_WORDS = {
    "acc",
    "accuracy",
    "auc",
    "auroc",
    "roc",
    "f1",
    "fscore",
    "precision",
    "recall",
    "map",
    "map50",
    "iou",
    "miou",
    "dice",
    "r2",
    "bleu",
    "rouge",
    "rouge1",
    "rouge2",
    "rougel",
    "top1",
    "top5",
    "top",
    "score",
    "jaccard",
    "sensitivity",
    "specificity",
    "psnr",
    "ssim",
    "ap",
    "ndcg",
    "mrr",
    "hit",
    "hits",
    "kappa",
    "mcc",
    "correct",
    "reward",
    "return",
}
MIN_WORDS = {
    "error",
    "err",
    "mse",
    "mae",
    "rmse",
    "mape",
    "perplexity",
    "ppl",
    "wer",
    "cer",
    "distance",
    "nll",
    "crossentropy",
    "xent",
    "bce",
    "kl",
    "kld",
    "fid",
    "regret",
}
# never a curve to judge
OTHER_WORDS = {
    "epoch",
    "step",
    "steps",
    "global",
    "time",
    "runtime",
    "second",
    "seconds",
    "samples",
    "per",
    "flos",
    "memory",
    "mem",
    "gpu",
    "throughput",
    "it",
    "its",
    "number",
    "count",
    "num",
    "grad",
    "norm",
    "gradnorm",
    "batch",
    "size",
    "momentum",
    "weight",
    "decay",
    "wd",
    "beta",
    "temperature",
    "scale",
    "x",
}
#: words that name the two players of adversarial training (a GAN) in a loss's tag
GENERATOR_WORDS = frozenset({"gen", "generator"})
DISCRIMINATOR_WORDS = frozenset({"disc", "discriminator", "critic"})
#: one-letter names (loss_G / loss_D, G_loss / D_loss) count only as a pair
GENERATOR_LETTER, DISCRIMINATOR_LETTER = "g", "d"
COMPONENT_HINT = re.compile(r"(box|cls|obj|dfl|seg|mask|kpt|pose|rpn|bbox|giou|l1|aux|reg|ctc)")


@dataclass(frozen=True)
class TagInfo:
    tag: str
    role: str  # train_loss | val_loss | test_loss | loss | metric | lr | other
    split: str  # train | val | test | "" (unknown)
    direction: str | None  # "min" | "max" | None
    kind: str  # loss | metric | lr | other
    core: tuple[str, ...]


@dataclass
class Roles:
    """The roles of a run's tags, and why the primary curves were chosen."""

    tags: dict[str, TagInfo] = field(default_factory=dict)
    train_loss: str | None = None
    val_loss: str | None = None
    lr: str | None = None
    val_metric: str | None = None
    train_metric: str | None = None
    reasons: list[str] = field(default_factory=list)
    # derived curves: name -> list of component tags summed
    derived: dict[str, list[str]] = field(default_factory=dict)
    # adversarial training: loss tag -> "generator" | "discriminator"
    adversarial: dict[str, str] = field(default_factory=dict)

    def primary(self) -> dict[str, str | None]:
        return {
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "train_metric": self.train_metric,
            "val_metric": self.val_metric,
            "lr": self.lr,
        }

    def direction(self, tag: str | None) -> str | None:
        if tag is None:
            return None
        info = self.tags.get(tag)
        return info.direction if info else None


def tokenize(tag: str) -> list[str]:
    t = re.sub(r"([a-z])([A-Z])", r"\1_\2", tag)  # camelCase -> camel_Case
    t = t.lower()
    t = re.sub(r"\(.*?\)", " ", t)  # metrics/mAP50(B)
    return [w for w in re.split(r"[^a-z0-9]+", t) if w]


def classify(tag: str) -> TagInfo:
    toks = tokenize(tag)
    split = ""
    for w in toks:
        if w in TRAIN_TOKENS:
            split = split or "train"
        elif w in VAL_TOKENS:
            split = split or "val"
        elif w in TEST_TOKENS:
            split = split or "test"
    if split == "" and toks and toks[0] == "metrics":
        split = "val"  # Ultralytics: metrics/mAP50(B) etc. are computed on the validation set
    rest = [w for w in toks if w not in TRAIN_TOKENS | VAL_TOKENS | TEST_TOKENS | {"metrics"}]
    joined = "_".join(toks)
    kind, direction = "other", None
    if "loss" in rest or any(w.endswith("loss") for w in rest) or joined in {"nll"}:
        kind, direction = "loss", "min"
    elif (
        any(w in LR_NAMES for w in rest)
        or "learning_rate" in joined
        or joined.startswith("lr")
        or (len(rest) >= 2 and rest[0] == "lr")
    ):
        kind = "lr"
    elif any(w in MAX_WORDS for w in rest) or any(w.startswith("map") for w in rest):
        kind, direction = "metric", "max"
    elif any(w in MIN_WORDS for w in rest):
        kind, direction = "metric", "min"
    if kind == "metric" and any(w in {"number", "count", "support", "runtime"} for w in rest):
        kind, direction = "other", None
    role = kind
    if kind == "loss":
        eff = split or "train"
        role = {"train": "train_loss", "val": "val_loss", "test": "test_loss"}[eff]
    core = tuple(w for w in rest)
    return TagInfo(tag, role, split or ("train" if kind == "loss" else ""), direction, kind, core)


def _score_train(info: TagInfo, points: int) -> tuple:
    core = set(info.core)
    exact_total = core <= {"loss", "epoch", "mean", "avg", "average", "total", "overall", "running"}
    is_component = bool(COMPONENT_HINT.search("_".join(info.core))) and not exact_total
    per_epoch = "epoch" in core
    per_step = "step" in core or "batch" in core or "iter" in core or "iteration" in core
    explicit = info.split == "train"
    return (
        exact_total,
        not is_component,
        "total" in core or "mean" in core or info.core[-1:] == "loss" and len(core) == 1,
        per_epoch and not per_step,
        not per_step,
        explicit,
        points,
        -len(info.tag),
    )


def _core_similarity(a: TagInfo, b: TagInfo) -> float:
    sa, sb = set(a.core), set(b.core)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / max(1, len(sa | sb))


def adversarial_sides(losses: Iterable[TagInfo]) -> dict[str, str]:
    """Tag -> "generator" or "discriminator" when the losses are those of adversarial training
    (both players present), else {}. Whole words first ('gen_loss', 'loss/discriminator'); the
    one-letter names of the DCGAN examples ('Loss_G' and 'Loss_D') only when no whole word
    names a player and both letters are there."""
    losses = list(losses)

    def sides(gen, disc) -> dict[str, str]:
        out = {}
        for i in losses:
            w = set(i.core)
            if gen(w) and not disc(w):
                out[i.tag] = "generator"
            elif disc(w) and not gen(w):
                out[i.tag] = "discriminator"
        return out if set(out.values()) == {"generator", "discriminator"} else {}

    return sides(
        lambda w: bool(w & GENERATOR_WORDS), lambda w: bool(w & DISCRIMINATOR_WORDS)
    ) or sides(lambda w: GENERATOR_LETTER in w, lambda w: DISCRIMINATOR_LETTER in w)


def assign_roles(
    tag_points: Mapping[str, int],
    *,
    train_loss: str | None = None,
    val_loss: str | None = None,
    tag_steps: Mapping[str, tuple[int, int]] | None = None,
) -> Roles:
    """Assign a role to every tag and choose the primary curves.

    ``tag_points`` maps tag -> number of finite points. ``train_loss``/``val_loss`` override the
    choice (they must be tags of the run; an unknown tag is an error listing the tags there are).
    ``tag_steps`` (tag -> (first, last) step) helps pair curves logged on the same axis.
    """
    roles = Roles()
    for tag in tag_points:
        roles.tags[tag] = classify(tag)
    infos = list(roles.tags.values())
    tag_steps = tag_steps or {}

    for name, val in (("train-loss", train_loss), ("val-loss", val_loss)):
        if val is not None and val not in roles.tags:
            known = ", ".join(sorted(roles.tags)) or "(none)"
            raise KeyError(f"--{name} {val!r} is not a tag of this run; its tags are: {known}")

    train_losses = [i for i in infos if i.role == "train_loss"]
    val_losses = [i for i in infos if i.role == "val_loss"]
    test_losses = [i for i in infos if i.role == "test_loss"]

    # ---- training loss
    if train_loss is not None:
        roles.train_loss = train_loss
        roles.reasons.append(f"train loss: {train_loss!r} (set by the user)")
    elif train_losses and (sides := adversarial_sides(train_losses)):
        roles.adversarial = sides
        roles.reasons.append(
            "train loss: none chosen — the losses look adversarial (generator vs discriminator: "
            + ", ".join(repr(i.tag) for i in train_losses if i.tag in sides)
            + "); they are not minimised jointly, so only their swings and non-finite values "
            "are judged. Use --train-loss TAG to analyse one as a training loss."
        )
    elif train_losses:
        ranked = sorted(
            train_losses, key=lambda i: _score_train(i, tag_points.get(i.tag, 0)), reverse=True
        )
        best = ranked[0]
        comps = [i for i in train_losses if COMPONENT_HINT.search("_".join(i.core))]
        best_is_component = best in comps and not (
            set(best.core) <= {"loss", "epoch", "mean", "total"}
        )
        if best_is_component and len(comps) >= 2:
            # no total logged: sum the components (what the optimiser minimises, up to weights)
            name = _derived_name(comps)
            roles.derived[name] = [i.tag for i in comps]
            roles.train_loss = name
            roles.reasons.append(
                "train loss: no total logged, so the sum of the "
                f"{len(comps)} components {', '.join(repr(i.tag) for i in comps)} is used"
            )
        else:
            roles.train_loss = best.tag
            why = (
                "the only training loss"
                if len(train_losses) == 1
                else (
                    "preferred over "
                    + ", ".join(repr(i.tag) for i in ranked[1:4])
                    + (" ..." if len(ranked) > 4 else "")
                    + " (a total, per-epoch loss is preferred to components and per-step values)"
                )
            )
            roles.reasons.append(f"train loss: {best.tag!r} — {why}")
    else:
        roles.reasons.append("train loss: none found (no tag names a loss)")

    # ---- validation loss
    ref = roles.tags.get(roles.train_loss) if roles.train_loss in roles.tags else None
    if roles.train_loss in roles.derived:
        ref = roles.tags[roles.derived[roles.train_loss][0]]
    pool, source = val_losses, "validation"
    if not pool and test_losses:
        pool, source = test_losses, "test"
    if val_loss is not None:
        roles.val_loss = val_loss
        roles.reasons.append(f"val loss: {val_loss!r} (set by the user)")
    elif pool and not adversarial_sides(pool):

        def vscore(i: TagInfo):
            sim = _core_similarity(i, ref) if ref else 0.0
            same_axis = 0.0
            if ref and ref.tag in tag_steps and i.tag in tag_steps:
                a0, a1 = tag_steps[ref.tag]
                b0, b1 = tag_steps[i.tag]
                span = max(1, a1 - a0, b1 - b0)
                same_axis = -abs(a1 - b1) / span
            return (sim, same_axis, tag_points.get(i.tag, 0), -len(i.tag))

        comps = [i for i in pool if COMPONENT_HINT.search("_".join(i.core))]
        if roles.train_loss in roles.derived and len(comps) >= 2:
            name = _derived_name(comps)
            roles.derived[name] = [i.tag for i in comps]
            roles.val_loss = name
            roles.reasons.append(
                f"val loss: sum of the {len(comps)} {source} components "
                + ", ".join(repr(i.tag) for i in comps)
            )
        else:
            ranked = sorted(pool, key=vscore, reverse=True)
            roles.val_loss = ranked[0].tag
            why = (
                f"the only {source} loss"
                if len(pool) == 1
                else (
                    "closest in name and step range to the training loss among "
                    + ", ".join(repr(i.tag) for i in ranked[:4])
                )
            )
            if source == "test":
                why += " (no validation loss logged, so the test loss stands in for it)"
            roles.reasons.append(f"val loss: {ranked[0].tag!r} — {why}")
    else:
        roles.reasons.append("val loss: none found")

    # ---- learning rate, metrics
    lrs = [i for i in infos if i.kind == "lr"]
    if lrs:
        lr = sorted(
            lrs,
            key=lambda i: (
                i.core[-1:] != ("pg0",),
                "0" not in i.tag,
                -tag_points.get(i.tag, 0),
                i.tag,
            ),
        )[0]
        roles.lr = lr.tag
        roles.reasons.append(f"learning rate: {lr.tag!r}")
    metrics = [i for i in infos if i.kind == "metric"]
    val_metrics = [i for i in metrics if i.split in ("val", "test")]
    train_metrics = [i for i in metrics if i.split in ("train", "")]

    def mscore(i: TagInfo):
        core = set(i.core)
        return (
            bool(core & {"acc", "accuracy", "top1"}),
            bool(core & {"overall"}),
            bool(core & {"f1", "map", "auc", "map50"}),
            i.split == "val",
            tag_points.get(i.tag, 0),
            -len(i.tag),
        )

    if val_metrics:
        roles.val_metric = sorted(val_metrics, key=mscore, reverse=True)[0].tag
    if train_metrics:
        roles.train_metric = sorted(train_metrics, key=mscore, reverse=True)[0].tag
    if roles.val_metric:
        d = roles.tags[roles.val_metric].direction
        roles.reasons.append(
            f"validation metric: {roles.val_metric!r} ({'higher' if d == 'max' else 'lower'} is better)"
        )
    return roles


def _derived_name(comps: list[TagInfo]) -> str:
    prefix = comps[0].tag.rsplit("/", 1)[0] + "/" if "/" in comps[0].tag else ""
    return f"{prefix}sum({'+'.join(i.tag.rsplit('/', 1)[-1] for i in comps)})"
