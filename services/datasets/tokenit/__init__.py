"""A TokenIT-style data engine: document-like pages with a pixel mask for every token of the
tokenizer, for training TokenFD-mini (docs/tokenfd-mini.md).

Modules, one job each:
``fonts`` (which font files this machine has, by family), ``corpus`` (package-shipped prose and
generated fields), ``tokenizer`` (the subword tokenizer trained on that corpus), ``canvas`` (the
drawing interface the layouts use), ``raster`` (PIL pages) and ``pdf`` (typeset PDFs rasterised
by pdfium), ``layouts`` (page templates), ``tokens`` (glyph boxes -> token boxes and masks),
``augment`` (scan look), ``engine`` (one page from (seed, index)), ``writer`` (staged shards),
``cli``.
"""
