"""Verify a remedy: re-run the user's Keras experiment with the suggested fix and decide, over
several seeds, whether it helped.

``experiment`` loads and validates the user's file, ``remedies`` turns remedy ids into
hyperparameter changes and callbacks, ``runner`` trains (TensorFlow), ``decide`` compares the runs
(pure numbers), ``html`` and ``outputs`` write the results. The command line, ``curvelint verify``,
is in ``analyzer/cli/verify.py``. Only ``runner`` imports TensorFlow.
"""

from .decide import RunOutcome, Verdict, decide

__all__ = ["RunOutcome", "Verdict", "decide"]
