"""TokenVL against the real tritonserver: the session's server (tests/conftest.py's
`triton_server`, whose repository `make models`' builder made: TokenFD and TokenVL) and the
torch reference loaded from the same tiny seeded checkpoint."""
from __future__ import annotations

import io

import numpy as np
import pytest

from .client import StreamClient


@pytest.fixture(scope="session")
def tokenvl_reference(tokenfd_artifacts):
    """(TokenVLModel, tokenizer) from the checkpoint the served model was exported from."""
    from services.models.tokenvl.checkpoint import load_model
    from services.models.tokenvl.tokens import Tokenizer

    model, _ = load_model(tokenfd_artifacts.tokenvl_checkpoint)
    return model, Tokenizer.from_file(tokenfd_artifacts.tokenvl_export / "tokenizer.json")


@pytest.fixture(scope="session")
def tokenvl_generation(tokenfd_artifacts):
    """The serving logic in-process, to build the very prompt the model builds (same limits)."""
    from services.models.tokenvl.triton.generation import TokenVLGeneration

    return TokenVLGeneration.from_directory(tokenfd_artifacts.tokenvl_export, context_length=8192, max_images=4)


@pytest.fixture()
def stream(triton_server):
    client = StreamClient(triton_server.grpc_url)
    yield client
    client.close()


def png(width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray((rng.random((height, width, 3)) * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()
