"""Export helpers every family's exporter shares (services/models/*/export*.py): the model id
written into the exported metadata, and a quiet ONNX exporter."""
from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from pathlib import Path

MODEL_ID_CHARS = 16


def model_id(files: list[Path]) -> str:
    """sha256 over the checkpoint's weight files (in order), first 16 hex digits: the
    same weights always give the same id, whatever directory they sit in."""
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:MODEL_ID_CHARS]


@contextlib.contextmanager
def quiet_exporter():
    """The exporter logs that torchvision's ops are not registered and warns about
    its own deprecations; neither concerns these graphs."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message=".*axis name.*", category=UserWarning)
            yield
    finally:
        registration.setLevel(level)
