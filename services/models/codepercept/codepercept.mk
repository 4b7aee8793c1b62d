# CodePercept-mini: its corpus from the STEM data engine and the training recipe (included by the top-level
# Makefile; docs/codepercept-mini.md).
CODEPERCEPT_DATA         ?= $(ARTIFACTS)/codepercept
CODEPERCEPT_PROGRAMS     ?= 4400
CODEPERCEPT_HELDOUT      ?= 88
CODEPERCEPT_DPI          ?= 100
CODEPERCEPT_OUT          ?= $(ARTIFACTS)/codepercept-mini
CODEPERCEPT_TIME_BUDGET_S ?= 9000
# The vision tower starts from TokenFD-mini v1 (committed), what the committed CodePercept-mini started from, so
# the recipe trains that model again whichever TokenFD-mini `make up` serves; CODEPERCEPT_INIT_VISION= asks for
# random weights, =DIR for another TokenFD checkpoint (models/tokenfd-mini, the served one, say).
CODEPERCEPT_INIT_VISION  ?= $(patsubst %/config.json,%,$(wildcard models/tokenfd-mini-v1/config.json))
CODEPERCEPT_CHECKPOINT   ?= $(CODEPERCEPT_OUT)/checkpoint
CODEPERCEPT_CORPUS       := $(PY) -m services.models.codepercept.corpus

.PHONY: data-codepercept train-codepercept publish-codepercept smoke-codepercept eval-codepercept tune-codepercept

# Two shards at once (one per core), joined; the tokenizer is trained on the training corpus. Rendered by an
# in-process sandbox pool, so nothing has to be running. A finished corpus is not rendered again.
$(CODEPERCEPT_DATA)/train/.done: | $(DEPS_STAMP) $(SANDBOX_PROTO_STAMP)
	$(CODEPERCEPT_CORPUS) --out $(CODEPERCEPT_DATA)/train --count $(CODEPERCEPT_PROGRAMS) --seed 0 \
		--dpi $(CODEPERCEPT_DPI) --shard 0/2 & \
	$(CODEPERCEPT_CORPUS) --out $(CODEPERCEPT_DATA)/train --count $(CODEPERCEPT_PROGRAMS) --seed 0 \
		--dpi $(CODEPERCEPT_DPI) --shard 1/2 && wait $$!
	$(CODEPERCEPT_CORPUS) --out $(CODEPERCEPT_DATA)/train --merge
	$(PY) -m services.models.codepercept.tokenizer --corpus $(CODEPERCEPT_DATA)/train
	touch $@

$(CODEPERCEPT_DATA)/heldout/.done: | $(DEPS_STAMP) $(SANDBOX_PROTO_STAMP)
	$(CODEPERCEPT_CORPUS) --out $(CODEPERCEPT_DATA)/heldout --count $(CODEPERCEPT_HELDOUT) --seed 1 \
		--dpi $(CODEPERCEPT_DPI)
	touch $@

data-codepercept: $(CODEPERCEPT_DATA)/train/.done $(CODEPERCEPT_DATA)/heldout/.done

# The retrieval index (RETRIEVAL_INDEX, codeperception.mk's): the training corpus's engine seed (0) taken further,
# RETRIEVAL_PER_FAMILY programs of each family, of which the first CODEPERCEPT_PROGRAMS are the training corpus.
# Retrieval's fidelity grows by about 0.03 with each doubling (docs/codepercept-mini.md, "Retrieval's curve"), and
# 1,600 a family is the most that fits the 40 MB with the model. Rendered by an in-process sandbox pool: about
# 37 minutes on 2 cores, resumable. Rebuilt when the index's or the engine's code changes.
RETRIEVAL_PER_FAMILY ?= 1600
$(RETRIEVAL_INDEX): $(shell find services/codeperception/retrieval services/evaluation/synth -name '*.py' 2>/dev/null) \
		| $(DEPS_STAMP) $(SANDBOX_PROTO_STAMP)
	$(PY) -m services.codeperception.retrieval.build --out $@ --per-family $(RETRIEVAL_PER_FAMILY) \
		--dpi $(CODEPERCEPT_DPI)

# Resumes from $(CODEPERCEPT_OUT)/state.pt when it is there; writes $(CODEPERCEPT_OUT)/checkpoint.
train-codepercept: data-codepercept | train-allocator
	$(TRAIN_ENV) $(PY) -m services.models.codepercept.train --data $(CODEPERCEPT_DATA)/train \
		--heldout $(CODEPERCEPT_DATA)/heldout --out $(CODEPERCEPT_OUT) --threads $(TRAIN_THREADS) \
		--time-budget $(CODEPERCEPT_TIME_BUDGET_S) $(if $(CODEPERCEPT_INIT_VISION),--init-vision $(CODEPERCEPT_INIT_VISION))

# The trained checkpoint into the repository (CODEPERCEPT_MINI_DIR), with the retrieval index when it has been
# built: checked first (the record, TokenVL's strict loader, the tokenizer, at most 40 MB with the index), then
# copied; commit the directory to make it every clone's.
publish-codepercept: | $(DEPS_STAMP)
	$(PY) -m services.models.codepercept.publish $(CODEPERCEPT_CHECKPOINT) $(CODEPERCEPT_MINI_DIR) \
		$(if $(wildcard $(RETRIEVAL_INDEX)),--index $(RETRIEVAL_INDEX))

# CI's short training smoke: a few engine programs rendered by the real sandbox, a tokenizer, 5 steps of the
# model in miniature with a resume, the checkpoint through TokenVL's strict loader (also part of make test).
smoke-codepercept: setup
	$(PY) -m pytest -q tests/unit/codepercept_mini

# Retrieval, the model (greedy and best of 4) and both (the verified backend) through percept-eval on the engine's
# held-out seeds and the independent figures; the report into docs/benchmarks.md (docs/codepercept-mini.md).
# By default what make up serves: the published model and its index (nothing to train or render first), else
# this clone's trained checkpoint and built index.
EVAL_CODEPERCEPT_CHECKPOINT ?= $(or $(CODEPERCEPT_CHECKPOINT_SERVED),$(CODEPERCEPT_CHECKPOINT))
EVAL_CODEPERCEPT_INDEX      ?= $(or $(wildcard $(CODEPERCEPT_MINI_DIR)/retrieval-index.npz),$(RETRIEVAL_INDEX))
eval-codepercept: $(EVAL_CODEPERCEPT_INDEX) | setup
	$(PY) -m services.evaluation.codepercept run --checkpoint $(EVAL_CODEPERCEPT_CHECKPOINT) \
		--index $(EVAL_CODEPERCEPT_INDEX) --write-docs

# The sampling temperature of the model's best of N, chosen on another engine seed than the evaluation's.
tune-codepercept: $(EVAL_CODEPERCEPT_INDEX) | setup
	$(PY) -m services.evaluation.codepercept tune --checkpoint $(EVAL_CODEPERCEPT_CHECKPOINT) \
		--index $(EVAL_CODEPERCEPT_INDEX)
