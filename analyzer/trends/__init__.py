"""Trend statistics on (step, value) arrays: pure numpy/scipy functions."""
