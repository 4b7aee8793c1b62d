"""TokenVL: the document MLLM of the TokenFD paper (InternVL2.5 recipe with TokenFD's
token-level vision path and an InternLM2 LLM loaded in the Llama layout).

    config.py        the named sizes and every number the serving path is built from
    tokens.py        special tokens and the InternVL2.5 chat template (torch-free)
    modeling.py      the torch reference (vision path + LlamaForCausalLM)
    checkpoint.py    strict loader for upstream checkpoints; InternLM2 -> Llama conversion
    fixtures.py      tiny seeded checkpoints in the upstream layout + fixture tokenizer
    export.py        vision ONNX, decoder ONNX (onnxruntime-genai's builder), embeddings
    export_tensorrt.py  the vision engine for the gpu target (TokenFD's tooling)
    triton/          torch-free generation logic and the Triton repository entries
"""
