# The try-it page (/ui/) in a real browser (included by the top-level Makefile).
#   make browser-tools - Debian's chromium (apt-get, skipped when present) and Playwright's Python package (pinned)
#   make test-browser  - the page's tests in chromium against the real stack (tests/browser)
#   make screenshots   - docs/img/ui-*.png, each panel taken from the real stack
# Playwright never downloads a browser here: the tests launch Debian's chromium by its path.
CHROMIUM      ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.browser-tools
SUDO          := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: browser-tools chromium test-browser screenshots

browser-tools: chromium $(BROWSER_STAMP)

chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; }

$(BROWSER_STAMP): requirements/browser.txt $(DEPS_STAMP)
	$(PIP) install -q -r requirements/browser.txt
	touch $@

# `make test` on a fresh machine gets the browser and Playwright too.
test: browser-tools

test-browser: setup models browser-tools
	PERCEPT_TEST_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser

screenshots: setup models browser-tools
	PERCEPT_TEST_CHROMIUM=$(CHROMIUM) $(PY) -m tests.browser.screenshots --out docs/img
