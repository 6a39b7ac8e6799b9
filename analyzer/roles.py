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
from dataclasses import dataclass, field, replace

from .curves import COMPLEMENT_PREFIX

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

#: Loss formulas: a tag whose core (its words without the split) is one of these spellings names
#: what a loss computes (``train_mse``, ``val_rmse``, ``epoch_mae``, ``eval_cross_entropy``). Such a
#: tag is a *loss candidate*: it becomes the training (validation) loss only when no tag of that
#: split is called a loss, and then the first formula of this order that is logged is chosen
#: (cross-entropies first, then squared error before absolute error, ... and RMSE, usually
#: reported beside an MSE rather than minimised, late); the others stay metrics (lower is better).
LOSS_FORMULAS: dict[str, tuple[tuple[str, ...], ...]] = {
    "ce": (
        ("ce",),
        ("xent",),
        ("crossentropy",),
        ("cross", "entropy"),
        ("categorical", "crossentropy"),
        ("categorical", "cross", "entropy"),
        ("sparse", "categorical", "crossentropy"),
    ),
    "bce": (("bce",), ("binary", "crossentropy"), ("binary", "cross", "entropy")),
    "nll": (("nll",),),
    "focal": (("focal",),),
    "ctc": (("ctc",),),
    "mse": (("mse",), ("mean", "squared", "error")),
    "mae": (("mae",), ("mean", "absolute", "error")),
    "huber": (("huber",),),
    "smooth_l1": (("smooth", "l1"), ("smoothl1",)),
    "msle": (("msle",), ("mean", "squared", "logarithmic", "error")),
    "rmse": (("rmse",), ("root", "mean", "squared", "error")),
    "hinge": (("hinge",), ("squared", "hinge"), ("categorical", "hinge")),
    "kl": (
        ("kl",),
        ("kld",),
        ("kl", "div"),
        ("kl", "divergence"),
        ("kullback", "leibler", "divergence"),
    ),
}
FORMULA_ORDER = tuple(LOSS_FORMULAS)
_FORMULA_OF = {spelling: name for name, sp in LOSS_FORMULAS.items() for spelling in sp}
#: words around a formula that do not change what it is (``epoch_mse``, ``mse_avg``)
_FORMULA_DECOR = {"epoch", "step", "batch", "avg", "average", "running", "overall", "total", "mean"}
#: bounded metrics (higher is better, at most 1, or 100 when logged in percent) whose complement
#: ``1 - m`` is an error rate (for r2: the fraction of variance unexplained); a run that logs no
#: loss at all is judged on the complement of its validation (and training) metric
COMPLEMENT_WORDS = {
    "acc",
    "accuracy",
    "auc",
    "auroc",
    "f1",
    "fscore",
    "iou",
    "miou",
    "jaccard",
    "map",
    "map50",
    "ap",
    "top1",
    "top5",
    "r2",
    "precision",
    "recall",
}


@dataclass(frozen=True)
class TagInfo:
    tag: str
    role: str  # train_loss | val_loss | test_loss | loss | metric | lr | other
    split: str  # train | val | test | "" (unknown)
    direction: str | None  # "min" | "max" | None
    kind: str  # loss | metric | lr | other
    core: tuple[str, ...]
    #: the loss formula the tag names (see LOSS_FORMULAS), e.g. "mse" for "val_mse"
    formula: str | None = None


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
    # derived curves that are ``1 - metric`` (their one component in ``derived``), not a sum
    complements: set[str] = field(default_factory=set)
    # what the user should know about the choice (shown as run notes)
    notes: list[str] = field(default_factory=list)

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
    # "losses" (add_scalars("Losses", {...}), "train_losses") is the plural of a loss
    return ["loss" if w == "losses" else w for w in re.split(r"[^a-z0-9]+", t) if w]


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
    formula = formula_of(rest) if kind in ("metric", "other") else None
    if formula is not None:
        kind, direction = "metric", "min"
    role = kind
    if kind == "loss":
        eff = split or "train"
        role = {"train": "train_loss", "val": "val_loss", "test": "test_loss"}[eff]
    core = tuple(w for w in rest)
    return TagInfo(
        tag, role, split or ("train" if kind == "loss" else ""), direction, kind, core, formula
    )


def formula_of(words: Iterable[str]) -> str | None:
    """The loss formula (a key of LOSS_FORMULAS) that ``words`` spell, or None."""
    words = tuple(words)
    found = _FORMULA_OF.get(words)
    if found is None:
        found = _FORMULA_OF.get(tuple(w for w in words if w not in _FORMULA_DECOR))
    return found


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


#: what each place of :func:`_score_train`'s key means, for the reason given for the choice
_TRAIN_CRITERIA = (
    "a name that says only a whole loss (loss, total, mean, epoch) is preferred",
    "a total loss is preferred to its components",
    "a total or mean loss is preferred",
    "a loss named per epoch is preferred to per-step values",
    "a loss named per step or per batch comes last",
    "named as the training split",
    "",  # points: said with the counts
    "the shorter name, other things equal",
)


def _why_train(best: TagInfo, second: TagInfo, points: Mapping[str, int]) -> str:
    """Why ``best`` was chosen over ``second``: the first criterion of :func:`_score_train` that
    tells them apart."""
    a = _score_train(best, points.get(best.tag, 0))
    b = _score_train(second, points.get(second.tag, 0))
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            if i == 6:
                return (
                    f"the names tell them apart no further; it holds more points "
                    f"({points.get(best.tag, 0):,} against {points.get(second.tag, 0):,})"
                )
            return _TRAIN_CRITERIA[i]
    return "the first of equals"


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
    # loss candidates: tags named by their formula (used only where no tag is called a loss)
    f_train = [i for i in infos if i.formula and i.split in ("train", "")]
    f_val = [i for i in infos if i.formula and i.split == "val"]
    f_test = [i for i in infos if i.formula and i.split == "test"]

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
                    + f" ({_why_train(best, ranked[1], tag_points)})"
                )
            )
            roles.reasons.append(f"train loss: {best.tag!r} — {why}")
    elif f_train:
        # no tag is called a loss: the first formula of FORMULA_ORDER, preferring one logged
        # for validation too (so that train and validation measure the same thing)
        paired = {i.formula for i in (f_val or f_test)}
        ranked = sorted(
            f_train,
            key=lambda i: (
                i.formula not in paired,
                FORMULA_ORDER.index(str(i.formula)),
                tuple(not x for x in _score_train(i, tag_points.get(i.tag, 0))),
            ),
        )
        best = ranked[0]
        _promote(roles, best, "train_loss")
        roles.reasons.append(
            f"train loss: {best.tag!r} — no tag is called a loss; "
            + _formula_why(best, ranked[1:], paired, "validation")
            + _CHOOSE
        )
    else:
        roles.reasons.append("train loss: none found (no tag names a loss)")

    # ---- validation loss
    ref = roles.tags.get(roles.train_loss) if roles.train_loss in roles.tags else None
    if roles.train_loss in roles.derived:
        ref = roles.tags[roles.derived[roles.train_loss][0]]
    pool, source = val_losses, "validation"
    if not pool and test_losses:
        pool, source = test_losses, "test"
    # a formula-named validation loss only beside a formula-named (or no) training loss: a tag
    # called "loss" may be any formula, and comparing it with val_mae would compare two scales
    ref_formula = ref.formula if ref is not None else None
    f_pool = [
        i
        for i in (f_val or f_test)
        if (ref is None and roles.train_loss is None) or i.formula == ref_formula
    ]
    if val_loss is None and not pool and f_pool and not roles.adversarial:
        src = "validation" if f_val else "test"
        ranked = sorted(
            f_pool,
            key=lambda i: (
                i.formula != ref_formula,
                FORMULA_ORDER.index(str(i.formula)),
                -tag_points.get(i.tag, 0),
                len(i.tag),
            ),
        )
        best = ranked[0]
        _promote(roles, best, "val_loss")
        others = [i for i in (f_val or f_test) if i is not best]
        others.sort(key=lambda i: FORMULA_ORDER.index(str(i.formula)))
        why = "no tag is called a loss; " + _formula_why(best, others, set(), "")
        if ref_formula is not None and others:
            why += f" (the formula of the training loss {roles.train_loss!r})"
        if src == "test":
            why += " (no validation loss logged, so the test loss stands in for it)"
        why += _CHOOSE
        roles.reasons.append(f"val loss: {best.tag!r} — {why}")
    elif val_loss is not None:
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
    metrics = [i for i in roles.tags.values() if i.kind == "metric"]
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
    if (
        roles.train_loss is None
        and roles.val_loss is None
        and not any(i.kind == "loss" for i in roles.tags.values())
    ):
        _judge_on_metrics(roles, val_metrics, train_metrics)
    return roles


def _promote(roles: Roles, info: TagInfo, role: str) -> None:
    """Make a formula-named tag the primary training or validation loss."""
    split = "train" if role == "train_loss" else info.split
    roles.tags[info.tag] = replace(info, role=role, kind="loss", split=split)
    setattr(roles, role, info.tag)


_CHOOSE = "; --train-loss/--val-loss choose another"


def _formula_why(best: TagInfo, others: list[TagInfo], paired: set, other_split: str) -> str:
    order = " > ".join(FORMULA_ORDER)
    if not others:
        text = f"{best.tag!r} names a loss formula ({best.formula})"
    else:
        text = (
            f"chosen among the loss formulas {', '.join(repr(i.tag) for i in [best, *others])} "
            f"by the order {order}"
        )
        if other_split and best.formula in paired:
            text += f", preferring one logged for {other_split} too"
        text += f"; {', '.join(repr(i.tag) for i in others)} "
        text += "stay metrics" if len(others) > 1 else "stays a metric"
    return text


def _complementable(info: TagInfo) -> bool:
    return info.direction == "max" and any(
        w in COMPLEMENT_WORDS or w.startswith("map") for w in info.core
    )


def _judge_on_metrics(
    roles: Roles, val_metrics: list[TagInfo], train_metrics: list[TagInfo]
) -> None:
    """No loss at all: judge the run on ``1 - metric`` of a bounded higher-is-better metric
    (accuracy, F1, AUC, IoU, mAP, r2 ...), which is positive and lower-is-better like a loss."""
    val = roles.tags.get(roles.val_metric) if roles.val_metric else None
    if val is not None and not _complementable(val):
        val = None
    train = None
    if val is not None:
        # the training twin of the validation metric (same words), if logged
        same = [i for i in train_metrics if i.core == val.core]
        train = same[0] if same else None
    elif roles.train_metric and _complementable(roles.tags[roles.train_metric]):
        train = roles.tags[roles.train_metric]
    if val is None and train is None:
        return
    judged = []
    roles.reasons = [r for r in roles.reasons if " loss: none found" not in r]
    for info, role in ((train, "train_loss"), (val, "val_loss")):
        if info is None:
            continue
        name = f"{COMPLEMENT_PREFIX}{info.tag}"
        roles.derived[name] = [info.tag]
        roles.complements.add(name)
        setattr(roles, role, name)
        judged.append(name)
        roles.reasons.append(
            f"{role.replace('_', ' ')}: {name!r} — no loss is logged, so the run is judged on the "
            f"complement of the {'validation' if role == 'val_loss' else 'training'} metric "
            f"{info.tag!r} (an error rate; a metric in percent is divided by 100 first)"
        )
    if val is not None and train is not None:
        roles.train_metric = train.tag
    roles.notes.append(f"no loss logged: judged on {' and '.join(judged)}")


def _derived_name(comps: list[TagInfo]) -> str:
    prefix = comps[0].tag.rsplit("/", 1)[0] + "/" if "/" in comps[0].tag else ""
    return f"{prefix}sum({'+'.join(i.tag.rsplit('/', 1)[-1] for i in comps)})"
