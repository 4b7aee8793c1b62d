# Helm chart tooling and checks (included by the top-level Makefile).
