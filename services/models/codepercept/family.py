"""CodePercept-mini as a model family (services/models/family.py): image-to-code and figure captions
through chat, served as `codepercept` (the generation contract) over `codepercept_vision` (internal).

CodePercept-mini is a TokenVL checkpoint, so this family is TokenVL's export and Triton models under
its own names (services/models/tokenvl/triton/repository.py's ServedNames), with the serving numbers
the checkpoint records beside its weights (`codepercept_mini.json`: one tile per image, its system
message, the context it was trained to fill, the image-to-code question it was trained on, declared
as the generation contract's `code_prompt`) and the name it records.

A built-in family: `make models` builds it from the committed checkpoint (models/codepercept-mini,
`make publish-codepercept`) or any other given as `--family-checkpoint codepercept=DIR`. Without one
it serves the tiny seeded TokenVL fixture under this family's names: plumbing only, not a model.
Torch-free at import; `build` imports the export tooling when it runs.
"""
from __future__ import annotations

import json
from pathlib import Path

from services.models.family import BuildRequest, BuiltFamily, ModelFamily, ModelTask, TritonModel

NAME = "codepercept"
GENERATION_MODEL = "codepercept"
VISION_MODEL = "codepercept_vision"
TINY_NAME = "codepercept-tiny"
TINY_SEED = 0


def recorded(checkpoint: Path) -> dict:
    """What the recipe recorded beside the weights (checkpoint.RECORD_FILE), {} for a checkpoint without it."""
    from services.models.codepercept.checkpoint import RECORD_FILE

    path = checkpoint / RECORD_FILE
    if not path.is_file():
        return {}
    record = json.loads(path.read_text())
    if not isinstance(record, dict):
        raise ValueError(f"{path} is not a JSON object")
    return record


def repository_options(record: dict, max_positions: int):
    """TokenVL's repository options at CodePercept-mini's serving numbers: the record's, else the config's."""
    from services.models.codepercept import config
    from services.models.tokenvl.triton.repository import RepositoryOptions

    serving = record.get("serving", {})
    context = int(serving.get("context_length", config.CONTEXT_LENGTH))
    # Its answers run as long as its longest training target: the default for a request naming none, and
    # what code perception asks for (code_max_tokens) instead of half the context.
    answer_tokens = int(record.get("recipe", {}).get("max_target_tokens", config.MAX_TARGET_TOKENS))
    return RepositoryOptions(context_length=min(context, max_positions),
                             max_tiles=int(serving.get("max_tiles", config.MAX_TILES)),
                             system_message=serving.get("system_message", config.SYSTEM_MESSAGE),
                             code_prompt=serving.get("questions", {}).get("code", config.CODE_QUESTION),
                             default_max_tokens=answer_tokens, code_max_tokens=answer_tokens,
                             code_guard=code_guard_rules(record))


def code_guard_rules(record: dict):
    """The code guard's rules the recipe found its training programs keep (the names they read unbound, the
    parallel lists), None when the checkpoint records none (no guard)."""
    from services.models.tokenvl.triton.code_guard import GuardRules

    entry = record.get("code_guard")
    return None if entry is None or "free_names" not in entry else GuardRules.from_entry(entry)


def build(request: BuildRequest) -> BuiltFamily:
    """The TokenVL export of the checkpoint (and its vision plan on gpu, as TokenVL's) and its two Triton
    models under this family's names."""
    from services.models.tokenvl.export import export_artifacts
    from services.models.tokenvl.fixtures import build_tiny_checkpoint
    from services.models.tokenvl.triton.repository import ServedNames, model_entries
    from services.triton.repository import Target

    checkpoint, export_dir = request.checkpoint_and_export(build_tiny_checkpoint, TINY_NAME, TINY_SEED)
    record = recorded(checkpoint)
    meta = export_artifacts(checkpoint, export_dir, name=record.get("name"), log=request.log)
    options = repository_options(record, int(meta["max_position_embeddings"]))
    names = ServedNames(family=NAME, generation=GENERATION_MODEL, vision=VISION_MODEL)
    plan = None
    if Target(request.target) is Target.GPU:
        from services.models.tokenvl import export_tensorrt

        request.log("building the CodePercept-mini vision TensorRT plan ...")
        plan = export_tensorrt.build_vision_plan(export_dir)
    return BuiltFamily(checkpoint, export_dir, model_entries(request.target, export_dir, options=options, plan=plan,
                                                             names=names))


FAMILY = ModelFamily(
    name=NAME,
    models=(TritonModel(GENERATION_MODEL, task=ModelTask.chat), TritonModel(VISION_MODEL)),
    build=build,
)
