"""A throwaway third model family, defined in the test's own tree, to show that adding a family is
its package plus one registry line (here PERCEPT_MODEL_FAMILIES, the registry's run-time line).

Its "checkpoint" is a seeded Caesar key; its one Triton model, `third_caesar`, implements the
generation contract (a chat model) and answers a prompt shifted by that key; it is probed by
/readyz. docs/adding-a-model-family.md follows the same steps.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

from tritonclient.grpc import model_config_pb2 as mc

from services.models.family import BuildRequest, BuiltFamily, ModelFamily, ModelTask, TritonModel
from services.triton import generation as contract
from services.triton.repository import VERSION, FamilyEntries, ModelEntry, apply_contract, require, set_parameters

NAME = "thirdfamily"
MODEL = "third_caesar"
TINY_NAME = "thirdfamily-tiny"
TINY_SEED = 0
WEIGHTS = "third.json"
CONTEXT_LENGTH = 64


def tiny_checkpoint(directory: Path, seed: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / WEIGHTS).write_text(json.dumps({"key": random.Random(seed).randint(1, 25)}))
    return directory


def build(request: BuildRequest) -> BuiltFamily:
    checkpoint = request.checkpoint or tiny_checkpoint(request.out / "checkpoints" / TINY_NAME, TINY_SEED)
    export = request.out / "export" / checkpoint.name
    export.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(require(checkpoint / WEIGHTS, "a thirdfamily checkpoint holds its key"), export / WEIGHTS)
    model_id = hashlib.sha256((export / WEIGHTS).read_bytes()).hexdigest()[:16]
    config = apply_contract(mc.ModelConfig(name=MODEL, backend="python", max_batch_size=0), contract.GENERATION)
    config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU, count=1))
    set_parameters(config, {contract.CONTEXT_LENGTH_PARAMETER: CONTEXT_LENGTH, contract.MAX_IMAGES_PARAMETER: 0,
                            contract.MODEL_ID_PARAMETER: model_id, "model_name": checkpoint.name})
    files = {f"{VERSION}/model.py": (Path(__file__).parent / "model.py").read_bytes(),
             f"{VERSION}/{WEIGHTS}": export / WEIGHTS}
    return BuiltFamily(checkpoint, export, FamilyEntries(NAME, [ModelEntry(config, files)], {"model_id": model_id}))


FAMILY = ModelFamily(name=NAME, models=(TritonModel(MODEL, task=ModelTask.chat, probed=True),), build=build)
