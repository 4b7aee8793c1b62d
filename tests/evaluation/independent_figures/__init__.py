"""STEM figures written for this project independently of the data engine: not from its families'
templates, with their own subjects, data, layouts and styles (mechanics, chemistry, optics, statistics,
astronomy, machine learning, geometry). CodePercept-mini's evaluation answers them beside the engine's
held-out seeds (issue 17), to measure what a user's own figure gets. Each program draws one figure.
They are data, not tests: tests/evaluation/test_independent_figures.py checks that each renders."""
