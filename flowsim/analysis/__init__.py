"""Analysis: pure functions from trajectories to economic series, summaries and observations.

``economy`` and ``summary`` turn runs into money flows and per-host figures;
``observations``, ``background``, ``constraints`` and ``goodness`` are the
observation model used by :mod:`flowsim.calibration` (what a published figure
is in model terms, ordinary border traffic, bounds and weights, fit statistics).
"""
