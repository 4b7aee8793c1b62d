# percept: every set-up step lives here, so `make up` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYS ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
PIP        := $(VENV)/bin/pip
ARTIFACTS  ?= artifacts
DEPS_STAMP := $(VENV)/.deps-installed
# The TokenFD checkpoint `make models` and `make up` serve: CHECKPOINT=DIR (an official checkpoint in its
# upstream layout), else the trained TokenFD-mini in $(TOKENFD_MINI_DIR) when that directory holds one
# (`make publish-tokenfd` puts it there), else the tiny seeded fixture (CHECKPOINT= asks for it). The test
# suite builds its own fixtures whatever this says.
#   make up CHECKPOINT=/path/to/TokenFD_2048_Bilingual_seg
TOKENFD_MINI_DIR ?= models/tokenfd-mini
CHECKPOINT ?= $(if $(wildcard $(TOKENFD_MINI_DIR)/config.json),$(TOKENFD_MINI_DIR))
# Likewise CodePercept-mini: CODEPERCEPT_CHECKPOINT_SERVED=DIR, else the trained one committed in
# $(CODEPERCEPT_MINI_DIR) (`make publish-codepercept`), else its family's tiny fixture.
CODEPERCEPT_MINI_DIR ?= models/codepercept-mini
CODEPERCEPT_CHECKPOINT_SERVED ?= $(if $(wildcard $(CODEPERCEPT_MINI_DIR)/config.json),$(CODEPERCEPT_MINI_DIR))
comma := ,
# One stamp per build input: the checkpoints and the extra model families (PERCEPT_MODEL_FAMILIES,
# docs/adding-a-model-family.md), so changing any rebuilds every registered family.
MODELS_STAMP := $(ARTIFACTS)/.models-built-$(subst /,_,$(or $(CHECKPOINT),tiny))$(if $(CODEPERCEPT_CHECKPOINT_SERVED),+$(subst /,_,$(CODEPERCEPT_CHECKPOINT_SERVED)))$(if $(PERCEPT_MODEL_FAMILIES),+$(subst $(comma),+,$(PERCEPT_MODEL_FAMILIES)))

export PYTHONPATH := $(CURDIR)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup protos models up down lint test test-unit test-integration test-security test-sandbox bench clean

help:
	@echo "make up      - set up, build the models (TokenFD-mini when models/tokenfd-mini holds it), start the platform on localhost"
	@echo "make down    - stop everything 'make up' started"
	@echo "make test    - set up, lint and run the full test suite"
	@echo "make lint    - ruff over the whole repository (rules in pyproject.toml); the first step of make test"
	@echo "make models  - export the served checkpoints (CHECKPOINT, else models/tokenfd-mini, else the tiny fixture; models/codepercept-mini likewise) and build the Triton model repository"
	@echo "make publish-tokenfd - check the trained TokenFD-mini (artifacts/tokenfd-mini/checkpoint) and copy it to models/tokenfd-mini"
	@echo "make train-codepercept - render the engine's corpus and train CodePercept-mini (2,800 steps, about 2 h on 2 cores with jemalloc; docs/codepercept-mini.md)"
	@echo "make publish-codepercept - check the trained CodePercept-mini (and the retrieval index, when built) and copy them to models/codepercept-mini"
	@echo "make eval-codepercept - retrieval, CodePercept-mini and both through percept-eval on held-out and independent figures (docs/benchmarks.md)"
	@echo "make tune-codepercept - the sampling temperature of CodePercept-mini's best of N, on another engine seed (docs/codepercept-mini.md)"
	@echo "make bench   - run the benchmarks (results: docs/benchmarks.md)"
	@echo "make eval-demo  - a small synthetic STEM2Code split scored by percept-eval (reference backend)"
	@echo "make retrieval-index - the code-perception retrieval backend's index, from the data engine's corpus"
	@echo "make eval-locate - TokenFD's locate against Tesseract on held-out and text-layer PDF pages (docs/benchmarks.md)"
	@echo "make helm-lint  - helm lint and helm template of the chart (helm from a pinned wheel)"
	@echo "make screenshots - the try-it page's panels (docs/img/ui-*.png), taken in chromium from the real stack"
	@echo "make images     - build the component images (needs docker or podman)"

setup: $(DEPS_STAMP) protos

# torch is installed first and pinned, so nothing later can pull a CUDA build.
$(DEPS_STAMP): requirements/serving.txt requirements/dev.txt requirements/triton-stub.txt sandbox-runner/requirements.txt pyproject.toml sandbox-runner/pyproject.toml
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements/dev.txt
	# The wheel ships the real tritonserver binary and python backend; its Python API's
	# numpy<2 pin does not apply to the binary, so its dependencies are not installed.
	$(PIP) install -q --no-deps nvidia-pytriton==0.7.0
	$(PIP) install -q --no-deps -e . -e sandbox-runner
	# numpy 1.x for Triton's python-backend stub only (see services/triton/stubenv.py).
	$(PY) -m services.triton.stubenv install
	touch $@

include sandbox-runner/sandbox.mk
include services/codeperception/codeperception.mk
include services/evaluation/evaluation.mk
include helm/helm.mk
include services/models/common/training.mk
include services/models/tokenfd/mini/mini.mk
include services/models/codepercept/codepercept.mk
include services/evaluation/locate/locate.mk
include tests/browser/browser.mk

models: $(MODELS_STAMP)

$(MODELS_STAMP): $(DEPS_STAMP) $(shell find services/models services/triton model_repository -name '*.py' -o -name '*.pbtxt' 2>/dev/null) $(if $(CHECKPOINT),$(wildcard $(CHECKPOINT)/*)) $(if $(CODEPERCEPT_CHECKPOINT_SERVED),$(wildcard $(CODEPERCEPT_CHECKPOINT_SERVED)/*))
	rm -f $(ARTIFACTS)/.models-built-*
	$(PY) -m services.models.build_default --out $(ARTIFACTS) $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT)) \
		$(if $(CODEPERCEPT_CHECKPOINT_SERVED),--family-checkpoint codepercept=$(CODEPERCEPT_CHECKPOINT_SERVED))
	touch $@

up: setup models
	$(PY) -m services.devstack up --artifacts $(ARTIFACTS) --codepercept-mini $(CODEPERCEPT_MINI_DIR)

down:
	@test -x $(PY) && $(PY) -m services.devstack down || true

# Lint first: a finding fails `make test` before the long suite starts.
lint: setup
	$(VENV)/bin/ruff check .

test: lint setup models
	$(PY) -m pytest -q --durations=20 tests

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: setup models
	$(PY) -m pytest -q tests/integration

test-security: setup
	$(PY) -m pytest -q tests/security

# The jail's tests alone: what .ci/private-checkout runs from a clone under a 0700 directory.
test-sandbox: setup
	$(PY) -m pytest -q tests/sandbox tests/security tests/integration/test_sandbox_faults.py

bench: setup models
	$(PY) -m tests.bench.run_all

clean:
	rm -rf $(ARTIFACTS) build .pytest_cache
