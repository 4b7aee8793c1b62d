"""percept-eval: the STEM2Code-Eval harness (docs/evaluation.md) and, in synth/, the synthetic
STEM data engine (docs/data-engine.md)."""
