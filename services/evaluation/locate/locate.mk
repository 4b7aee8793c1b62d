# `make eval-locate`: TokenFD's locate against an OCR peer, Tesseract, on the same seeded queries of the
# TokenIT engine's held-out pages and of text-layer PDF pages typeset by reportlab; the report and its
# plot go into docs/benchmarks.md and docs/img/eval_locate.png (services/evaluation/locate).
# Included by the top-level Makefile after services/models/tokenfd/mini/mini.mk (its data targets).
#   make eval-locate                                    # the served default checkpoint (make models)
#   make eval-locate EVAL_LOCATE_CHECKPOINT=DIR         # any checkpoint in the upstream layout
#   make eval-locate EVAL_LOCATE_ARGS="--limit 5"       # a quick run
EVAL_LOCATE_CHECKPOINT ?= $(or $(CHECKPOINT),$(ARTIFACTS)/checkpoints/tokenfd-tiny)
EVAL_LOCATE_DIR        ?= $(ARTIFACTS)/eval-locate
EVAL_LOCATE_ARGS       ?=
EVAL_LOCATE_PDF        := $(EVAL_LOCATE_DIR)/pdf-pages/pages.jsonl

.PHONY: tesseract eval-locate

# Debian's tesseract-ocr (English data included), where apt-get runs as root; elsewhere it must be there.
tesseract:
	@if command -v tesseract >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -q tesseract-ocr >/dev/null 2>&1 \
			|| { apt-get update -q >/dev/null && apt-get install -y -q tesseract-ocr >/dev/null; }; \
	else echo "tesseract: not installed and no apt-get as root here; install Debian's tesseract-ocr" >&2; exit 1; fi

# `make test` on a fresh machine gets tesseract too, so the eval's end-to-end test runs rather than skips.
test: tesseract

# The text-layer PDF pages: seeded, rewritten when their generator changes.
$(EVAL_LOCATE_PDF): services/evaluation/locate/pdfpages.py services/evaluation/locate/prose.py | $(DEPS_STAMP)
	$(PY) -m services.evaluation.locate pdf-pages --out $(EVAL_LOCATE_DIR)/pdf-pages

eval-locate: models tesseract $(TOKENIT_DIR)/heldout/.done $(EVAL_LOCATE_PDF)
	$(PY) -m services.evaluation.locate run --checkpoint $(EVAL_LOCATE_CHECKPOINT) \
		--synthetic $(TOKENIT_DIR)/heldout --pdf $(EVAL_LOCATE_DIR)/pdf-pages --out $(EVAL_LOCATE_DIR)/run \
		--write-docs $(EVAL_LOCATE_ARGS)
