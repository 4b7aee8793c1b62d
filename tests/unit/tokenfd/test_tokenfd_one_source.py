"""TokenFD's numbers (max tiles, encoder batch) and artifact names have one definition.

The numbers: a fresh interpreter changes them in services.models.tokenfd.config before
anything else is imported, then asks every consumer -- the tiling, the upstream
config.json, the locate pipeline, the repository options and configs, the TensorRT
profile, the gateway's default -- for its value. A consumer with its own copy of the
number keeps the old one and fails this test. The names: each is a string literal in
exactly one module of the serving code.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json
from services.models.tokenfd import config
config.DEFAULT_MAX_TILES = 7
config.ENCODER_MAX_BATCH_SIZE = 9

import inspect
import numpy as np
from PIL import Image
from gateway import settings as gateway_settings
from services.models.tokenfd import preprocess
from services.models.tokenfd.export_tensorrt import encoder_profile
from services.models.tokenfd.triton.locate import LocatePipeline
from services.models.tokenfd.triton.repository import RepositoryOptions, encoder_config, locate_config
from services.triton.repository import Target

pipeline = LocatePipeline(tokenizer=None, embeddings=np.zeros((4, 2), dtype=np.float32))
locate = locate_config(RepositoryOptions())
profile = encoder_profile()
print(json.dumps({
    "tiling": preprocess.tile_image(Image.new("RGB", (448 * 40, 448))).grid[0],
    "upstream_json": config.get_config("tiny").to_upstream_json()["max_dynamic_patch"],
    "pipeline_max_tiles": pipeline.max_tiles,
    "pipeline_batch": pipeline.encoder_max_batch_size,
    "options_max_tiles": RepositoryOptions().max_tiles,
    "locate_param_max_tiles": int(locate.parameters["max_tiles"].string_value),
    "locate_param_batch": int(locate.parameters["encoder_max_batch_size"].string_value),
    "encoder_max_batch_size": encoder_config(Target.GPU, 2, RepositoryOptions()).max_batch_size,
    "trt_profile_tiles": list(profile.tiles),
    "gateway_default": gateway_settings.MAX_TILES.default,
}))
"""


def test_a_changed_config_value_reaches_every_consumer():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERCEPT_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "tiling": 7,                  # a very wide image gets the widest grid allowed: 7 x 1
        "upstream_json": 7,
        "pipeline_max_tiles": 7,
        "pipeline_batch": 9,
        "options_max_tiles": 7,
        "locate_param_max_tiles": 7,
        "locate_param_batch": 9,
        "encoder_max_batch_size": 9,
        "trt_profile_tiles": [1, 8, 9],  # opt: 7 tiles + thumbnail; max: the encoder's batch
        "gateway_default": 7,
    }


# Every artifact and model name, and the module that alone spells it.
NAMES = {
    "encoder.onnx": "services/models/tokenfd/artifacts.py",
    "encoder.cpu.onnx": "services/models/tokenfd/artifacts.py",
    "model.plan": "services/models/tensorrt.py",
    "tok_embeddings.npy": "services/models/tokenfd/artifacts.py",
    "tokenfd.json": "services/models/tokenfd/artifacts.py",
    "tokenfd_encoder": "services/models/tokenfd/triton/contract.py",
    "tokenfd_locate": "services/models/tokenfd/triton/contract.py",
    "build.json": "services/triton/repository.py",
}
SERVING_CODE = ("services", "gateway", "model_repository")


def test_each_name_is_spelled_in_one_module():
    sources = [path for top in SERVING_CODE for path in (ROOT / top).rglob("*.py")]
    for name, owner in NAMES.items():
        literal = re.compile(r"""["']""" + re.escape(name) + r"""["']""")
        spelled = sorted(str(path.relative_to(ROOT)) for path in sources if literal.search(path.read_text()))
        assert spelled == [owner], f"{name!r} is written in {spelled}; import it from {owner}"
