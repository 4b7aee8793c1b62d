# Build steps of the sandbox-runner (included by the top-level Makefile).
# Generated gRPC stubs are build output: they live in a git-ignored directory.
SANDBOX_PROTO_SRC := protos/percept/sandbox/v1/sandbox.proto
SANDBOX_PROTO_OUT := sandbox-runner/percept_sandbox/_proto
SANDBOX_PROTO_STAMP := $(SANDBOX_PROTO_OUT)/percept/sandbox/v1/sandbox_pb2_grpc.py

.PHONY: sandbox-deps sandbox-protos

protos: sandbox-deps sandbox-protos

sandbox-protos: $(SANDBOX_PROTO_STAMP)

$(SANDBOX_PROTO_STAMP): $(SANDBOX_PROTO_SRC) $(DEPS_STAMP)
	mkdir -p $(SANDBOX_PROTO_OUT)
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(SANDBOX_PROTO_OUT) \
		--grpc_python_out=$(SANDBOX_PROTO_OUT) --pyi_out=$(SANDBOX_PROTO_OUT) $(SANDBOX_PROTO_SRC)

# The jail's seccomp filter needs libseccomp at run time (pyseccomp loads it).
sandbox-deps:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq libseccomp2; \
		else \
			echo "libseccomp2 is missing: install it (e.g. apt-get install libseccomp2)" >&2; exit 1; \
		fi; \
	fi
