import numpy as np

from analyzer.curves import Curve


def test_curve_upto_cuts_steps_values_and_wall_times_alike():
    c = Curve(
        "loss", "train_loss", "min", np.arange(6), np.linspace(1, 0.5, 6), np.arange(6.0) * 10
    )
    head = c.upto(3)
    assert head.steps.tolist() == [0, 1, 2, 3] and len(head.values) == len(head.wall_time) == 4
    assert c.upto(3, inclusive=False).steps.tolist() == [0, 1, 2]
    assert c.upto(3).memo is not c.memo  # a new curve: its statistics are its own


def test_map_curves_reaches_every_curve_and_keeps_absent_ones_absent():
    from analyzer.curves import CurveSet

    def c(tag):
        return Curve.of([0, 1, 2], [3.0, 2.0, 1.0], tag=tag)

    cs = CurveSet(train=c("loss"), lr=c("lr"), other_losses=(c("aux"),))
    assert [x.tag for x in cs.all_curves()] == ["loss", "lr", "aux"]
    cut = cs.map_curves(lambda x: x.upto(1))
    assert [len(x) for x in cut.all_curves()] == [2, 2, 2]
    assert cut.val is None and cut.val_metric is None
