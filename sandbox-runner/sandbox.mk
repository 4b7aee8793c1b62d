# Build steps of the sandbox-runner (included by the top-level Makefile).
protos:
	@true
