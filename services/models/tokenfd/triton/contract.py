"""Names and tensors of TokenFD's Triton models: the one source of truth shared by the
model-repository builder, the python-backend models and the gateway's client.

TokenFD is served as two models:

* ``tokenfd_encoder`` -- the exported graph. Batch axis = tiles (dynamic batching
  groups tiles of requests whose query length matches). Per tile it takes the pixels
  and the query's token embeddings and returns cosine-similarity maps, so the
  16384 x D feature map never leaves the engine.
      in  pixel_values      FP32 [N, 3, 448, 448]
      in  query_embeddings  FP32 [N, T, D]
      out similarity        FP32 [N, T, 128, 128]
  cpu target: python backend running ONNX Runtime; gpu target: TensorRT plan.

* ``tokenfd_locate`` -- python backend (BLS). Decodes the image with the shared
  limits, tiles it, tokenizes the query, looks up embeddings, calls the encoder,
  drops the thumbnail and stitches the tile maps row-major.
      in  IMAGE        BYTES [1]   encoded image (PNG, JPEG, ...)
      in  QUERY        BYTES [1]   UTF-8 text
      in  MAX_TILES    INT32 [1]   optional; default from the model config
      out SIMILARITY   FP32  [T, 128*rows, 128*cols]   raw cosine similarity
      out TOKEN_IDS    INT64 [T]
      out TOKEN_TEXTS  BYTES [T]   the tokenizer's pieces
      out GRID         INT32 [2]   (cols, rows) of the tile grid
      out NUM_TILES    INT32 [1]   tiles sent to the encoder, thumbnail included
      out IMAGE_SIZE   INT32 [2]   (width, height) of the decoded image
  Its config's parameters name the served checkpoint (``model_name``, ``model_id``) and, when
  the checkpoint records them, the cosine ``threshold`` and the ``decoding`` (JSON,
  query_matches.Decoding) calibrated with it: clients read them once from the model config
  (the gateway's locate default).
"""
from __future__ import annotations

# The shapes' numbers are the model config's, re-exported for the contract's users.
from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE  # noqa: F401

TOKENFD_ENCODER = "tokenfd_encoder"
TOKENFD_LOCATE = "tokenfd_locate"

# tokenfd_encoder tensors (also the ONNX graph's input/output names)
ENC_PIXELS = "pixel_values"
ENC_QUERY = "query_embeddings"
ENC_SIMILARITY = "similarity"

# tokenfd_locate tensors
LOC_IMAGE = "IMAGE"
LOC_QUERY = "QUERY"
LOC_MAX_TILES = "MAX_TILES"
LOC_SIMILARITY = "SIMILARITY"
LOC_TOKEN_IDS = "TOKEN_IDS"
LOC_TOKEN_TEXTS = "TOKEN_TEXTS"
LOC_GRID = "GRID"
LOC_NUM_TILES = "NUM_TILES"
LOC_IMAGE_SIZE = "IMAGE_SIZE"
# Optional: read a one-word query letter by letter too (its letters' maps and pieces; none otherwise)
LOC_SPELL = "SPELL"
LOC_LETTER_SIMILARITY = "LETTER_SIMILARITY"
LOC_LETTER_TEXTS = "LETTER_TEXTS"

# tokenfd_locate config parameters: the served checkpoint's name and weights digest, and its
# recorded cosine threshold and decoding (each absent when it records none)
LOC_MODEL_NAME_PARAMETER = "model_name"
LOC_MODEL_ID_PARAMETER = "model_id"
LOC_THRESHOLD_PARAMETER = "threshold"
LOC_DECODING_PARAMETER = "decoding"

# tokenfd_locate's load-time sample (beside its version directory), run by initialize()
LOC_WARMUP_DIR = "warmup"
LOC_WARMUP_IMAGE = "image.png"
LOC_WARMUP_QUERY = "query.txt"
