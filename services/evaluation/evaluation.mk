# Build and demo steps of percept-eval (included by the top-level Makefile).
