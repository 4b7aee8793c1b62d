"""CodePercept-mini end to end in miniature: samples are the serving path's tile and template with the
loss on the answer only, training runs 3 steps and resumes to 5, and the checkpoint it writes loads with
TokenVL's strict loader and generates what the trained model generates."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from services.codeperception.extraction import extract_code, fenced
from services.models.codepercept import checkpoint as mini_checkpoint
from services.models.codepercept.config import CAPTION_QUESTION, CODE_QUESTION, SYSTEM_MESSAGE, Recipe
from services.models.codepercept.data import IGNORE, Examples, collate
from services.models.codepercept.train import STATE_FILE, Trainer
from services.models.common.tiling import tile_image
from services.models.tokenfd.fixtures import build_tiny_checkpoint as build_tokenfd_checkpoint
from services.models.tokenvl.checkpoint import convert_state_dict, load_model
from services.models.tokenvl.modeling import TokenVLModel
from services.models.tokenvl.tokens import TOKENIZER_FILE, Tokenizer
from tests.unit.codepercept_mini.conftest import tiny_sizes

pytestmark = pytest.mark.timeout(300)


def test_a_sample_is_the_served_prompt_with_the_answer_as_the_only_target(corpora):
    train, _ = corpora
    tokenizer = Tokenizer.from_file(train / TOKENIZER_FILE)
    examples = Examples(train, tokenizer, max_target_tokens=10_000)
    sample = examples.samples[1]
    for task, question, answer in (("code", CODE_QUESTION, fenced(sample.code)),
                                   ("caption", CAPTION_QUESTION, sample.caption)):
        example = examples.example(1, task)
        from PIL import Image
        expected = tile_image(Image.open(sample.image).convert("RGB"), max_tiles=1).pixel_values
        assert example.pixel_values.shape == (1, 3, 448, 448)
        assert np.allclose(example.pixel_values.numpy(), expected)
        start = next(i for i, label in enumerate(example.labels) if label != IGNORE)
        text = tokenizer.tokenizer.decode(example.ids[:start], skip_special_tokens=False)
        assert text.startswith(f"<s><|im_start|>system\n{SYSTEM_MESSAGE}<|im_end|>\n<|im_start|>user\n<img>")
        assert text.endswith(f"</img>\n{question}<|im_end|>\n<|im_start|>assistant\n")
        assert example.ids.count(tokenizer.img_context_id) == 256
        assert example.labels[start:] == example.ids[start:]
        assert example.ids[-1] == tokenizer.im_end_id and tokenizer.decode(example.ids[start:]) == answer
        if task == "code":  # the program as code perception reads it back from an answer
            assert extract_code(answer) == sample.code.rstrip("\n") + "\n"
    cut = Examples(train, tokenizer, max_target_tokens=7).example(0, "code")
    assert cut.truncated and sum(label != IGNORE for label in cut.labels) == 7 and cut.ids[-1] != tokenizer.im_end_id
    batch = collate([examples.example(0, "code"), examples.example(0, "caption")], tokenizer.im_end_id)
    assert batch.pixel_values.shape[0] == 2 and batch.attention_mask.sum(1).tolist() == [
        len(examples.example(0, "code").ids), len(examples.example(0, "caption").ids)]
    assert (batch.labels[batch.attention_mask == 0] == IGNORE).all()


def test_the_upstream_names_are_the_loaders_map_read_backwards():
    config = tiny_sizes(600)
    torch.manual_seed(0)
    model = TokenVLModel(config)
    state = {name: t for name, t in model.state_dict().items() if not name.endswith("inv_freq")}
    back = convert_state_dict(mini_checkpoint.upstream_state(state, config), config)
    assert set(back) == set(state)
    for name, tensor in state.items():
        assert torch.equal(back[name], tensor), name


def test_the_vision_tower_starts_from_a_tokenfd_checkpoint(tmp_path):
    from services.models.tokenfd.checkpoint import load_model as load_tokenfd

    directory = build_tokenfd_checkpoint(tmp_path / "tokenfd")
    model = TokenVLModel(tiny_sizes(600)).eval()
    assert mini_checkpoint.init_vision_from_tokenfd(model, directory).startswith("TokenFD encoder")
    tokenfd, _ = load_tokenfd(directory)
    pixels = torch.randn(1, 3, 448, 448)
    with torch.no_grad():   # TokenVL's path up to the abstractor computes TokenFD's feature map
        hidden = model.vision.extra_block(model.vision.vision_model(pixel_values=pixels).last_hidden_state)[:, 1:]
        ours = model.vision.upsample(hidden.transpose(1, 2).reshape(1, 64, 32, 32))
        theirs_hidden = tokenfd.vision_model(pixel_values=pixels).last_hidden_state[:, 1:]
        theirs = tokenfd.upsample(theirs_hidden.transpose(1, 2).reshape(1, 64, 32, 32))
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_training_runs_resumes_and_the_checkpoint_generates_like_the_trained_model(corpora, tmp_path):
    train, heldout = corpora
    recipe = dataclasses.replace(Recipe(), steps=3, batch=2, threads=1, eval_every=3, eval_samples=4,
                                 decode_samples=1, warmup=2, caption_share=0.5, lr=3e-3)
    trainer = Trainer(train, heldout, tmp_path, recipe, sizes=tiny_sizes, log=lambda *_: None)
    first = trainer.train_step()
    assert np.isfinite(first["loss"]) and first["tokens"] > 0
    trainer.run(progress=False)
    assert trainer.step == 3 and (tmp_path / STATE_FILE).is_file()
    assert 0.0 <= trainer.history[-1]["token_accuracy"] <= 1.0

    resumed = Trainer(train, heldout, tmp_path, dataclasses.replace(recipe, steps=5), sizes=tiny_sizes,
                      log=lambda *_: None)
    assert resumed.step == 3 and resumed.history == trainer.history
    name = "language_model.lm_head.weight"
    assert torch.equal(resumed.model.state_dict()[name], trainer.model.state_dict()[name])
    checkpoint = resumed.run(progress=False)
    assert resumed.step == 5

    record = json.loads((checkpoint / mini_checkpoint.RECORD_FILE).read_text())
    assert record["steps"] == 5 and record["vision_init"] == "random" and record["serving"]["max_tiles"] == 1
    assert record["greedy"]["decoded"] == 1 and 0.0 <= record["greedy"]["parse_rate"] <= 1.0
    loaded, config = load_model(checkpoint)                 # TokenVL's strict loader
    assert config.llm == resumed.config.llm and config.vision == resumed.config.vision
    # the trained model with its weights rounded as the checkpoint stores them (fp16)
    reference = TokenVLModel(resumed.config).eval()
    reference.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                               for k, v in resumed.model.state_dict().items()})
    tokenizer = resumed.tokenizer
    example = resumed.heldout.example(0, "code")
    prompt = resumed.heldout.prompt_ids("code", 1)
    with torch.no_grad():
        ids = torch.tensor([example.ids])
        logits = [m.language_model(inputs_embeds=m.input_embeddings(ids, m.vision(example.pixel_values),
                                                                    tokenizer.img_context_id)).logits
                  for m in (loaded, reference)]
    assert torch.allclose(logits[0], logits[1], atol=1e-4, rtol=1e-4)
    greedy = [m.generate_greedy(prompt, example.pixel_values, img_context_id=tokenizer.img_context_id,
                                stop_ids=[tokenizer.im_end_id], max_new_tokens=24) for m in (loaded, reference)]
    assert greedy[0] == greedy[1] and len(greedy[0]) == 24      # generate() from embeddings: new ids only
