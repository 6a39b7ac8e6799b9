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
