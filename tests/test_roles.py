"""Role assignment across the naming conventions real logs use."""

import pytest

from analyzer.roles import assign_roles, classify


def roles_of(*tags, **kw):
    return assign_roles({t: 10 for t in tags}, **kw)


@pytest.mark.parametrize(
    "tags, train, val",
    [
        (["loss", "val_loss", "accuracy", "val_accuracy"], "loss", "val_loss"),
        (["epoch", "acc", "loss", "val_acc", "val_loss"], "loss", "val_loss"),
        (["train_loss", "val_loss", "test_loss", "val_accuracy"], "train_loss", "val_loss"),
        (["Loss/train", "Loss/validation", "lr"], "Loss/train", "Loss/validation"),
        (["loss/train", "loss/val"], "loss/train", "loss/val"),
        (
            [
                "train/epoch_loss",
                "validation/epoch_loss",
                "validation/evaluation_loss_vs_iterations",
                "train/epoch_learning_rate",
            ],
            "train/epoch_loss",
            "validation/epoch_loss",
        ),
        (["loss", "eval/loss", "eval/average_loss", "global_step/sec"], "loss", "eval/loss"),
        (["loss", "eval_loss", "learning_rate", "grad_norm", "eval_accuracy"], "loss", "eval_loss"),
        (["train_loss", "test_loss"], "train_loss", "test_loss"),
        (["train_loss_step", "train_loss_epoch", "val_loss"], "train_loss_epoch", "val_loss"),
        (["Conductor_Copper_loss", "Dielectric_Air_loss", "mean_loss"], "mean_loss", None),
        (["trainLoss", "valLoss"], "trainLoss", "valLoss"),
    ],
)
def test_primary_losses(tags, train, val):
    r = roles_of(*tags)
    assert r.train_loss == train
    assert r.val_loss == val
    assert any(reason.startswith("train loss") for reason in r.reasons)


def test_components_without_total_are_summed():
    r = roles_of(
        "train/box_loss",
        "train/obj_loss",
        "train/cls_loss",
        "val/box_loss",
        "val/obj_loss",
        "val/cls_loss",
        "metrics/mAP_0.5",
        "x/lr0",
        "x/lr1",
    )
    assert r.train_loss in r.derived and len(r.derived[r.train_loss]) == 3
    assert r.val_loss in r.derived and all(t.startswith("val/") for t in r.derived[r.val_loss])
    assert r.lr == "x/lr0"
    assert r.val_metric == "metrics/mAP_0.5"
    assert classify("metrics/mAP_0.5").direction == "max"


def test_adversarial_losses_are_not_a_training_loss():
    r = roles_of("Gen Loss", "Disc Loss")
    assert r.train_loss is None
    assert "adversarial" in r.reasons[0]


@pytest.mark.parametrize(
    "tag, kind, direction",
    [
        ("val_accuracy", "metric", "max"),
        ("eval_overall_f1", "metric", "max"),
        ("val_top5", "metric", "max"),
        ("val_mae", "metric", "min"),
        ("perplexity", "metric", "min"),
        ("learning_rate", "lr", None),
        ("lr-Adam", "lr", None),
        ("epoch_time", "other", None),
        ("eval_T103_number", "other", None),
        ("grad_norm", "other", None),
    ],
)
def test_kinds_and_directions(tag, kind, direction):
    info = classify(tag)
    assert (info.kind, info.direction) == (kind, direction)


def test_user_override_and_unknown_tag():
    r = roles_of("a", "b_loss", train_loss="a")
    assert r.train_loss == "a" and "set by the user" in r.reasons[0]
    with pytest.raises(KeyError, match="its tags are"):
        roles_of("a", train_loss="nope")


@pytest.mark.parametrize(
    "tags",
    [
        ("Loss_D", "Loss_G"),  # the DCGAN example's names
        ("D_loss", "G_loss", "D_acc"),
        ("loss/discriminator", "loss/generator"),
        ("Gen Loss", "Disc Loss"),
    ],
)
def test_gan_losses_are_named_by_player_not_taken_as_training_loss(tags):
    r = assign_roles({t: 100 for t in tags})
    assert r.train_loss is None
    sides = sorted(r.adversarial.values())
    assert sides == ["discriminator", "generator"]
    assert "adversarial" in r.reasons[0]


def test_one_letter_alone_is_not_adversarial():
    # a single loss whose name holds a 'd' is an ordinary training loss
    r = assign_roles({"loss_d": 100, "val_loss": 100})
    assert r.train_loss == "loss_d" and not r.adversarial


@pytest.mark.parametrize(
    ("tag", "role"),
    [
        ("Losses/training", "train_loss"),  # PyTorch add_scalars("Losses", {"training": ...})
        ("Losses/validation", "val_loss"),
        ("train_losses", "train_loss"),
    ],
)
def test_plural_losses_are_losses(tag, role):
    assert classify(tag).role == role


def test_the_reason_names_what_decided_between_training_losses():
    # two tags the names cannot tell apart: the one with more points, and the reason says so
    r = assign_roles({"train/loss": 150, "Loss/train": 30})
    assert r.train_loss == "train/loss"
    assert any("more points (150 against 30)" in x for x in r.reasons)
    # a name that says a whole loss over a per-step one: that is the reason, whatever the counts
    r = assign_roles({"loss_step": 3000, "loss_epoch": 30})
    assert r.train_loss == "loss_epoch"
    assert any("says only a whole loss" in x for x in r.reasons)
    assert not any("more points" in x for x in r.reasons)
    r = assign_roles({"train/epoch_loss": 30, "train/batch_loss": 3000})
    assert r.train_loss == "train/epoch_loss" and not any("more points" in x for x in r.reasons)
