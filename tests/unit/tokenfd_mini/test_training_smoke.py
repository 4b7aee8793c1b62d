"""TokenFD-mini end to end on a few pages: the engine writes pages and token masks, training runs
3 steps and resumes to 5, and the checkpoint loads through the existing TokenFD loader."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image

from services.datasets.tokenit import cli, engine, tokenizer
from services.datasets.tokenit import tokens as token_masks
from services.evaluation.shards import Shard
from services.models.tokenfd.checkpoint import load_model, read_state_dict
from services.models.tokenfd.mini import checkpoint as mini_checkpoint
from services.models.tokenfd.mini.config import Recipe
from services.models.tokenfd.mini.train import STATE_FILE, Trainer
from services.models.tokenfd.tokenizer import QueryTokenizer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("tokenit")
    cli.generate(out, count=3, seed=0, shard=Shard.whole(), tokenizer_path=out / "tokenizer.model",
                 pdf_share=0.5, progress=False)
    return out


def test_engine_writes_pages_with_a_mask_per_token(corpus):
    records = [json.loads(line) for line in (corpus / "pages.jsonl").read_text().splitlines()]
    assert [r["index"] for r in records] == [0, 1, 2]
    for record in records:
        image = Image.open(corpus / record["image"])
        labels = np.asarray(Image.open(corpus / record["mask"]))
        assert labels.shape == (image.height, image.width) and labels.dtype == np.uint16
        assert len(record["tokens"]) > 10 and len(record["words"]) > 5
        drawn = set(np.unique(labels)) - {0}
        assert len(drawn) >= 0.8 * len(record["tokens"])      # small tokens may be overdrawn by neighbours
        for _, word, x0, y0, x1, y1 in record["tokens"]:
            wx0, wy0, wx1, wy1 = record["words"][word]["box"]
            assert wx0 - 1 <= x0 < x1 <= wx1 + 1 and wy0 - 1 <= y0 < y1 <= wy1 + 1


def test_pdf_and_pil_pages_give_the_same_words_tokens():
    """Both renderers: every word's tokens spell the word (ground truth aligned to the text)."""
    model = QueryTokenizer.from_bytes(tokenizer.train())
    for share in (0.0, 1.0):
        page = engine.render_page(7, 3, model, pdf_share=share)
        assert page.meta["renderer"] == ("pdf" if share else "pil")
        for index, word in enumerate(page.words[:50]):
            ids, _ = model.encode_query(word.text)
            assert [t.id for t in page.tokens if t.word == index] == [i for i, p in zip(ids, model.encode_query(
                word.text)[1], strict=True) if p != "\u2581"]


def test_tokens_left_without_pixels_are_dropped_and_the_labels_renumbered():
    """After a rotation a token may have no pixels left (overdrawn, or turned off the page): the record
    drops it and label k+1 must still be the record's token k (three training pages had labels past
    their last token before this was fixed)."""
    tokens = [token_masks.Token(id, piece, (0.0, 0.0, 1.0, 1.0), word)
              for id, piece, word in ((5, "a", 0), (6, "b", 0), (7, "c", 1))]
    labels = np.zeros((4, 6), dtype=np.uint16)
    labels[1:3, 0:2], labels[1:4, 4:6] = 1, 3                 # token 1 ("b") has no pixels
    kept, renumbered = token_masks.drawn_tokens(tokens, labels)
    assert [t.piece for t in kept] == ["a", "c"]
    assert [t.box for t in kept] == [(0.0, 1.0, 2.0, 3.0), (4.0, 1.0, 6.0, 4.0)]
    assert renumbered.dtype == np.uint16 and set(np.unique(renumbered)) == {0, 1, 2}
    assert (renumbered[labels == 3] == 2).all() and (renumbered[labels == 1] == 1).all()


def test_training_runs_resumes_and_loads_through_the_tokenfd_loader(corpus, tmp_path):
    recipe = dataclasses.replace(Recipe(), steps=3, batch=1, threads=1, eval_every=3, eval_queries=8, warmup=2)
    trainer = Trainer(corpus, corpus, tmp_path, recipe, log=lambda *_: None)
    checkpoint = trainer.run(progress=False)
    assert trainer.step == 3 and (tmp_path / STATE_FILE).is_file()
    first_loss = trainer.history[-1]["loss"]
    assert np.isfinite(first_loss)

    resumed = Trainer(corpus, corpus, tmp_path, dataclasses.replace(recipe, steps=5), log=lambda *_: None)
    assert resumed.step == 3 and resumed.history == trainer.history
    assert torch.equal(resumed.model.state_dict()["ocr_mlp.1.weight"], trainer.model.state_dict()["ocr_mlp.1.weight"])
    checkpoint = resumed.run(progress=False)
    assert resumed.step == 5

    model, config = load_model(checkpoint)                   # the existing loader, strict
    assert (config.vision.hidden_size, config.vision.num_hidden_layers, config.feature_dim) == (192, 4, 128)
    assert torch.allclose(model.tok_embeddings.weight, resumed.composer.table().half().float())
    record = json.loads((checkpoint / mini_checkpoint.RECORD_FILE).read_text())
    assert record["steps"] == 5 and np.isfinite(record["threshold"])
    # the CPU and threads it trained on: a bfloat16 run repeats on one kind of CPU and drifts on another
    assert record["machine"]["cpu"] and record["machine"]["threads"] == 1
    pixels = torch.stack([resumed.heldout.crop(__import__("random").Random(0)).pixels])
    resumed.model.eval()
    with torch.no_grad():   # the loaded fp16 weights compute what the trained model computes
        assert torch.allclose(model.tile_features(pixels), resumed.model.tile_features(pixels), atol=5e-2, rtol=5e-2)


def test_hard_negatives_are_absent_pieces_that_look_like_the_drawn_ones(corpus, tmp_path):
    """With v5's 24, half of a step's absent ids are drawn pieces' nearest absent neighbours by the composed embeddings;
    they are never drawn in the crop, and the neighbours travel with the state so a resume draws the same."""
    recipe = dataclasses.replace(Recipe(), steps=1, batch=1, threads=1, eval_every=1, eval_queries=8, warmup=1,
                                 hard_negatives=24)
    trainer = Trainer(corpus, corpus, tmp_path, recipe, log=lambda *_: None)
    crop = trainer.train_data.crop(__import__("random").Random(3))
    assert len(crop.ids) > recipe.hard_negatives
    trainer._refresh_neighbours()
    drawn = set(crop.ids.tolist())
    # each drawn piece's 3 nearest pieces that are not drawn (a piece taken by another is skipped)
    nearest = {int(n) for piece in crop.ids for n in [n for n in trainer.neighbours[piece].tolist()
                                                      if n not in drawn][:3]}

    def share_nearest(ids):
        return sum(int(i) in nearest for i in ids) / len(ids)

    generator = torch.Generator().manual_seed(0)
    ids, targets, positive = trainer._queries(crop, generator)
    negatives = ids[~positive]
    assert len(negatives) == recipe.negatives and not torch.isin(negatives, crop.ids).any()
    assert not targets[~positive].any()
    assert share_nearest(negatives[:recipe.hard_negatives]) == 1.0
    assert share_nearest(negatives[recipe.hard_negatives:]) < 0.5       # the rest: the whole vocabulary
    # v3's recipe (no hard negatives) draws every absent id at random
    v3 = Trainer(corpus, corpus, tmp_path / "v3", dataclasses.replace(recipe, hard_negatives=0), log=lambda *_: None)
    v3_ids, _, v3_positive = v3._queries(crop, generator)
    assert share_nearest(v3_ids[~v3_positive]) < 0.5

    trainer.run(progress=False)
    resumed = Trainer(corpus, corpus, tmp_path, dataclasses.replace(recipe, steps=2), log=lambda *_: None)
    assert torch.equal(resumed.neighbours, trainer.neighbours)


def test_stage_two_starts_from_a_trained_checkpoint(corpus, tmp_path):
    """--init: the model, the table (through the composer), the scale and the bias start as the checkpoint's, so
    before any step the features and maps are the checkpoint's; the optimiser starts afresh."""
    recipe = dataclasses.replace(Recipe(), steps=2, batch=1, threads=1, eval_every=2, eval_queries=8, warmup=1)
    first = Trainer(corpus, corpus, tmp_path / "first", recipe, log=lambda *_: None)
    checkpoint = first.run(progress=False)
    stored = read_state_dict(checkpoint)

    second = Trainer(corpus, corpus, tmp_path / "second",      # with the presence term too (v8's second stage)
                     dataclasses.replace(recipe, init=str(checkpoint), presence_weight=1.0), log=lambda *_: None)
    assert second.step == 0 and not second.optimizer.state
    assert torch.allclose(second.composer.table(), stored["tok_embeddings.weight"].float(), atol=1e-5)
    assert second.t_prime.item() == pytest.approx(stored["t_prime"].item())
    assert second.bias.item() == pytest.approx(stored["b"].item())
    loaded, _ = load_model(checkpoint)
    pixels = torch.stack([second.heldout.crop(__import__("random").Random(0)).pixels])
    second.model.eval()
    with torch.no_grad():
        assert torch.equal(second.model.tile_features(pixels), loaded.tile_features(pixels))
    second.run(progress=False)
    assert second.step == 2 and np.isfinite(second.history[-1]["loss"])


def test_stage_two_refuses_a_checkpoint_of_another_tokenizer(corpus, tmp_path):
    recipe = dataclasses.replace(Recipe(), steps=1, batch=1, threads=1, eval_every=1, eval_queries=8, warmup=1)
    checkpoint = Trainer(corpus, corpus, tmp_path / "first", recipe, log=lambda *_: None).run(progress=False)
    (checkpoint / "tokenizer.model").write_bytes(b"another tokenizer's bytes")
    with pytest.raises(ValueError, match="another tokenizer"):
        Trainer(corpus, corpus, tmp_path / "second", dataclasses.replace(recipe, init=str(checkpoint)),
                log=lambda *_: None)
