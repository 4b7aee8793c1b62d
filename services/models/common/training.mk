# What every training recipe runs under (included by the top-level Makefile before the recipes' files).
#
# The trainers run under jemalloc when it is installed (`make train-allocator`: Debian's libjemalloc2), keeping
# the pages they free (no decay). Batches change shape every step; glibc's heaps fragmented (a trainer's
# malloc_trim holds its memory, but the pages it hands back are faulted in again every step: about 130,000
# page faults a second, a quarter of the CPU in the kernel). Measured on CodePercept-mini's first run, same
# steps: 3.4-4.1 s a step under glibc, 2.1-2.4 s under jemalloc without decay. Without jemalloc a recipe runs
# as before, slower. (Expanded when a recipe runs, after train-allocator.)
JEMALLOC   = $(shell ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2/ {print $$NF; exit}')
TRAIN_ENV  = $(if $(JEMALLOC),LD_PRELOAD=$(JEMALLOC) MALLOC_CONF=dirty_decay_ms:-1$(comma)muzzy_decay_ms:-1)

.PHONY: train-allocator

# Optional, as tokenit-fonts: without apt (or root) the trainers run on glibc's allocator, slower.
train-allocator:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -q libjemalloc2 >/dev/null || echo "train-allocator: apt-get failed; training uses glibc's allocator"; \
	else echo "train-allocator: no apt-get as root here; training uses glibc's allocator"; fi
