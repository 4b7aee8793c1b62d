# TokenFD-mini: the TokenIT-style data engine and the training recipe (included by the top-level
# Makefile; docs/tokenfd-mini.md).
TOKENIT_DIR           ?= $(ARTIFACTS)/tokenit
TOKENIT_PAGES         ?= 3000
TOKENIT_HELDOUT_PAGES ?= 80
TOKENIT_CALIBRATION_PAGES ?= 80
TOKENFD_MINI_OUT      ?= $(ARTIFACTS)/tokenfd-mini
TRAIN_TIME_BUDGET_S   ?= 10800
TRAIN_THREADS         ?= 2
TOKENIT_TOKENIZER     := $(TOKENIT_DIR)/train/tokenizer.model

.PHONY: tokenit-fonts data-tokenit train-tokenfd calibrate-tokenfd publish-tokenfd

# More font families for the engine (Times/Helvetica/Courier metrics, the PostScript 35, Latin
# Modern). Optional: without apt (or root) the engine draws with matplotlib's bundled fonts.
tokenit-fonts:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -q fonts-liberation fonts-urw-base35 fonts-lmodern >/dev/null \
			|| echo "tokenit-fonts: apt-get failed; the engine uses matplotlib's fonts"; \
	else echo "tokenit-fonts: no apt-get as root here; the engine uses matplotlib's fonts"; fi

$(TOKENIT_TOKENIZER): | $(DEPS_STAMP)
	$(PY) -c "from services.datasets.tokenit.tokenizer import ensure; ensure('$@')"

# Two shards at once (one per core); a finished corpus is not rendered again.
$(TOKENIT_DIR)/train/.done: $(TOKENIT_TOKENIZER) | tokenit-fonts
	$(PY) -m services.datasets.tokenit --out $(TOKENIT_DIR)/train --count $(TOKENIT_PAGES) --seed 0 --shard 0/2 & \
	$(PY) -m services.datasets.tokenit --out $(TOKENIT_DIR)/train --count $(TOKENIT_PAGES) --seed 0 --shard 1/2 && \
	wait $$! && touch $@

$(TOKENIT_DIR)/heldout/.done: $(TOKENIT_TOKENIZER) | tokenit-fonts
	$(PY) -m services.datasets.tokenit --out $(TOKENIT_DIR)/heldout --count $(TOKENIT_HELDOUT_PAGES) --seed 1 \
		--tokenizer $(TOKENIT_TOKENIZER)
	touch $@

# The calibration pages: a third seed, so that the decoding is chosen on pages neither training nor the
# evaluation (make eval-locate reads heldout/) sees.
$(TOKENIT_DIR)/calibration/.done: $(TOKENIT_TOKENIZER) | tokenit-fonts
	$(PY) -m services.datasets.tokenit --out $(TOKENIT_DIR)/calibration --count $(TOKENIT_CALIBRATION_PAGES) --seed 2 \
		--tokenizer $(TOKENIT_TOKENIZER)
	touch $@

data-tokenit: $(TOKENIT_DIR)/train/.done $(TOKENIT_DIR)/heldout/.done $(TOKENIT_DIR)/calibration/.done

# Resumes from $(TOKENFD_MINI_OUT)/state.pt when it is there; writes $(TOKENFD_MINI_OUT)/checkpoint, then
# calibrates how its maps are read.
train-tokenfd: data-tokenit | train-allocator
	$(TRAIN_ENV) $(PY) -m services.models.tokenfd.mini.train --data $(TOKENIT_DIR)/train --heldout $(TOKENIT_DIR)/heldout \
		--out $(TOKENFD_MINI_OUT) --threads $(TRAIN_THREADS) --time-budget $(TRAIN_TIME_BUDGET_S)
	$(MAKE) calibrate-tokenfd

# The threshold and decoding of a trained checkpoint (CALIBRATE_CHECKPOINT=DIR for another one), chosen on the
# calibration pages and written into its tokenfd_mini.json (services/models/tokenfd/mini/calibrate.py).
CALIBRATE_CHECKPOINT ?= $(TOKENFD_MINI_OUT)/checkpoint
calibrate-tokenfd: $(TOKENIT_DIR)/calibration/.done
	$(PY) -m services.models.tokenfd.mini.calibrate $(CALIBRATE_CHECKPOINT) --pages $(TOKENIT_DIR)/calibration \
		--threads $(TRAIN_THREADS)

# The trained checkpoint into the repository, where `make models` serves it by default (TOKENFD_MINI_DIR, the
# top-level Makefile's): checked first (the strict loader reads it, it records its calibrated threshold, it is
# at most 25 MB), then copied; commit the directory to make it the default of every clone.
publish-tokenfd: | $(DEPS_STAMP)
	$(PY) -m services.models.tokenfd.mini.publish $(TOKENFD_MINI_OUT)/checkpoint $(TOKENFD_MINI_DIR)
