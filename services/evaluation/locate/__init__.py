"""`make eval-locate`: TokenFD's locate against an OCR peer (Tesseract), on the same seeded queries of
held-out synthetic pages and of text-layer PDF pages typeset by another tool than the training
renderers; the report goes into docs/benchmarks.md (cli.py)."""
