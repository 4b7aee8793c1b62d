# Build steps of the code-perception service (included by the top-level Makefile).
# The generated stubs are build output, in a git-ignored directory. They import the
# sandbox's stubs (percept.sandbox.v1), which percept_sandbox.api puts on sys.path.
CODEPERCEPTION_PROTO_SRC := protos/percept/codeperception/v1/codeperception.proto
CODEPERCEPTION_PROTO_OUT := services/codeperception/_proto
CODEPERCEPTION_PROTO_STAMP := $(CODEPERCEPTION_PROTO_OUT)/percept/codeperception/v1/codeperception_pb2_grpc.py
# The reference backend's embedded dataset: the STEM-style corpus rendered by the real sandbox.
STEM2CODE_SAMPLE := $(ARTIFACTS)/stem2code-sample
STEM2CODE_SAMPLE_STAMP := $(STEM2CODE_SAMPLE)/.built

# The `retrieval` and `verified` backends' index: the engine's programs of CodePercept-mini's training seed, the
# training corpus first, described (its rule is in services/models/codepercept/codepercept.mk, beside the corpus;
# docs/codeperception.md, "The retrieval index").
RETRIEVAL_INDEX := $(ARTIFACTS)/retrieval-index.npz

.PHONY: codeperception-protos stem2code-sample retrieval-index

protos: codeperception-protos

codeperception-protos: $(CODEPERCEPTION_PROTO_STAMP)

$(CODEPERCEPTION_PROTO_STAMP): $(CODEPERCEPTION_PROTO_SRC) $(SANDBOX_PROTO_STAMP) $(DEPS_STAMP)
	mkdir -p $(CODEPERCEPTION_PROTO_OUT)
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(CODEPERCEPTION_PROTO_OUT) \
		--grpc_python_out=$(CODEPERCEPTION_PROTO_OUT) --pyi_out=$(CODEPERCEPTION_PROTO_OUT) \
		$(CODEPERCEPTION_PROTO_SRC)

# Part of `make models` (which `make up` and `make test` run).
models: stem2code-sample

stem2code-sample: $(STEM2CODE_SAMPLE_STAMP)

retrieval-index: $(RETRIEVAL_INDEX)

$(STEM2CODE_SAMPLE_STAMP): $(DEPS_STAMP) $(SANDBOX_PROTO_STAMP) $(wildcard tests/sandbox/corpus/*.py) services/codeperception/sample_dataset.py \
		services/codeperception/dataset.py services/codeperception/prompt.py
	$(PY) -m services.codeperception.sample_dataset --out $(STEM2CODE_SAMPLE)
	touch $@
