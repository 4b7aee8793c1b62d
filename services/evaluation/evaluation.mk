# Build and demo steps of percept-eval (included by the top-level Makefile).
EVAL_DEMO_OUT ?= $(ARTIFACTS)/eval-demo

.PHONY: eval-demo

# A small split from the data engine, the harness over it with the reference backend
# (starts and stops its own sandbox server); prints the summary and the report's path.
eval-demo: $(DEPS_STAMP) $(SANDBOX_PROTO_STAMP) $(CODEPERCEPTION_PROTO_STAMP)
	$(PY) -m services.evaluation.demo --out $(EVAL_DEMO_OUT)
