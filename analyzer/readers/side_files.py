"""The names of the hyper-parameter side files the readers read beside a log.

A reader that reads a new side file declares its name here: :data:`SIDE_FILES` is part of a
run's stamp in the result cache (:func:`analyzer.engine._dependencies`), so that editing such a
file makes the run be read again. Standard library only: the result cache imports this module
on runs it answers without reading them.
"""

from __future__ import annotations

#: the side files of hyper-parameters each table reader looks for beside its log file
GENERIC_SIDE_FILES = (
    "config.json",
    "hparams.json",
    "params.json",
    "args.json",
    "hparams.yaml",
    "config.yaml",
)
LIGHTNING_SIDE_FILES = ("hparams.yaml",)
#: beside ``trainer_state.json``: the model's configuration the Hugging Face Trainer saves
HF_SIDE_FILES = ("config.json",)
ULTRALYTICS_SIDE_FILES = ("args.yaml", "opt.yaml", "hyp.yaml")
#: every such name: part of a run's stamp in the result cache (analyzer.engine)
SIDE_FILES = frozenset(
    GENERIC_SIDE_FILES + LIGHTNING_SIDE_FILES + ULTRALYTICS_SIDE_FILES + HF_SIDE_FILES
)
