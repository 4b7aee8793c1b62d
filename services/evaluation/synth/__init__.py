"""The ICC-style synthetic STEM data engine: seeded program families rendered by the sandbox,
written as code/image/caption triplets and as a STEM2Code-Eval-format split (docs/data-engine.md)."""
