"""curvelint: static analysis of deep-learning training curves."""

__version__ = "0.1.0"
