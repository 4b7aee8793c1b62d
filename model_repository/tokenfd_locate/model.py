"""tokenfd_locate: image + query -> per-token similarity maps (python backend, BLS).

The work is services.models.tokenfd.triton.locate.LocatePipeline; this file is the Triton glue:
tensors in and out and the BLS call to tokenfd_encoder. One error per failed request, client
faults as INVALID_ARG with "[<error code>] " in front of the message, so the gateway maps them
to typed 4xx (services/triton/python_backend.py).
"""
import json

import numpy as np

from services.models.tokenfd.query_matches import Decoding
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.locate import LocatePipeline
from services.triton.python_backend import PythonBackendModel, bls, single_value


class TritonPythonModel(PythonBackendModel):
    def setup(self, args):
        # The builder always writes these (from the model config's numbers): no second default here.
        self.pipeline = LocatePipeline.from_directory(
            args.version_dir, max_tiles=args.integer("max_tiles"),
            encoder_max_batch_size=args.integer("encoder_max_batch_size"),
            pad_query_tokens=args.flag("pad_query_tokens"))
        # The served checkpoint's reading (its record, through the builder): whether it spells a one-word query
        # unless a request says otherwise.
        recorded = args.params.get(contract.LOC_DECODING_PARAMETER)
        self.spells = recorded is not None and Decoding.from_json(json.loads(recorded)).spells
        # Triton rejects BLS calls until the server is ready, so a warmup request through the
        # encoder cannot run while loading; warm (and check) everything before the encoder instead.
        if args.flag("warmup"):
            warmup = args.model_dir / contract.LOC_WARMUP_DIR
            self.pipeline.prepare((warmup / contract.LOC_WARMUP_IMAGE).read_bytes(),
                                  (warmup / contract.LOC_WARMUP_QUERY).read_text())

    def run(self, request):
        image = single_value(request, contract.LOC_IMAGE)
        query = single_value(request, contract.LOC_QUERY)
        max_tiles = single_value(request, contract.LOC_MAX_TILES, required=False)
        spell = single_value(request, contract.LOC_SPELL, required=False)
        spell = self.spells if spell is None else bool(spell)
        if isinstance(image, str):
            image = image.encode("utf-8")
        result = self.pipeline.run(bytes(image), query, self._encode,
                                   max_tiles=None if max_tiles is None else int(max_tiles), spell=spell)
        return {
            contract.LOC_SIMILARITY: result.similarity,
            contract.LOC_TOKEN_IDS: result.token_ids.astype(np.int64),
            contract.LOC_TOKEN_TEXTS: np.array([piece.encode("utf-8") for piece in result.token_texts],
                                               dtype=np.object_),
            contract.LOC_GRID: np.array(result.grid, dtype=np.int32),
            contract.LOC_NUM_TILES: np.array([result.num_tiles], dtype=np.int32),
            contract.LOC_IMAGE_SIZE: np.array(result.image_size, dtype=np.int32),
            contract.LOC_LETTER_SIMILARITY: result.letter_similarity,
            contract.LOC_LETTER_TEXTS: np.array([piece.encode("utf-8") for piece in result.letter_texts],
                                                dtype=np.object_),
        }

    def _encode(self, pixel_values, query_embeddings):
        """One BLS call to tokenfd_encoder."""
        (similarity,) = bls(contract.TOKENFD_ENCODER,
                            {contract.ENC_PIXELS: pixel_values, contract.ENC_QUERY: query_embeddings},
                            [contract.ENC_SIMILARITY])
        return similarity

    def teardown(self):
        self.pipeline = None
