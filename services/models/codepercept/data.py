"""Training samples from a prepared corpus (corpus.py): the figure as the serving path sees it, the
prompt as the serving path builds it, and the assistant's answer as the only target.

- The image: decoded by services.common.images.decode_image and tiled by services.models.common.tiling
  at MAX_TILES -- the calls TokenVL's generation model makes (services/models/tokenvl/triton/generation.py),
  with the max_tiles this model is served at; one 448-pixel tile, so 256 image tokens.
- The prompt: TokenVL's PromptBuilder (the InternVL2.5 chat template) with CodePercept-mini's system
  message, the user turn "<image>\\n" + the task's question (config.TASKS).
- The target: the program as one ```python block (task "code") or its trace caption (task "caption"),
  then <|im_end|>. The loss is on these tokens only; a target over max_target_tokens is cut there
  (without <|im_end|>: the model is never taught to stop early) and counted.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from services.codeperception.extraction import fenced
from services.common.images import decode_image
from services.models.codepercept.config import MAX_TILES, SYSTEM_MESSAGE, TASKS, TOKENS_PER_TILE
from services.models.codepercept.corpus import Sample, read_samples
from services.models.common.tiling import tile_image
from services.models.tokenvl.tokens import PromptBuilder, Tokenizer

IGNORE = -100


@dataclass
class Example:
    pixel_values: torch.Tensor     # (tiles, 3, 448, 448)
    ids: list[int]                 # prompt + target
    labels: list[int]              # IGNORE on the prompt, the target ids after it
    task: str
    truncated: bool


@dataclass
class Batch:
    pixel_values: torch.Tensor     # (sum of tiles, 3, 448, 448)
    ids: torch.Tensor              # (B, T), right-padded
    attention_mask: torch.Tensor   # (B, T)
    labels: torch.Tensor           # (B, T), IGNORE on prompt and padding
    tasks: list[str]
    truncated: int


def pixel_values(png: bytes) -> torch.Tensor:
    """The serving path's tiles of one image."""
    return torch.from_numpy(tile_image(decode_image(png), max_tiles=MAX_TILES).pixel_values)


class Examples:
    """Samples of a corpus made into (pixels, prompt + target ids, labels)."""

    def __init__(self, directory, tokenizer: Tokenizer, *, max_target_tokens: int) -> None:
        self.samples: list[Sample] = read_samples(directory)
        self.tokenizer = tokenizer
        self.prompts = PromptBuilder(tokenizer, system_message=SYSTEM_MESSAGE, tokens_per_tile=TOKENS_PER_TILE)
        self.max_target_tokens = max_target_tokens

    def __len__(self) -> int:
        return len(self.samples)

    def prompt_ids(self, task: str, tiles: int) -> list[int]:
        return self.prompts.single(TASKS[task], [tiles]).ids

    def target_text(self, sample: Sample, task: str) -> str:
        """The answer: the program as one ```python block (the STEM2Code-Eval rule code perception reads
        answers by), or the caption as plain text."""
        return fenced(sample.code) if task == "code" else sample.caption

    def example(self, index: int, task: str) -> Example:
        sample = self.samples[index]
        pixels = pixel_values(sample.image.read_bytes())
        prompt = self.prompt_ids(task, len(pixels))
        target = self.tokenizer.encode(self.target_text(sample, task)) + [self.tokenizer.im_end_id]
        truncated = len(target) > self.max_target_tokens
        target = target[:self.max_target_tokens]
        return Example(pixels, prompt + target, [IGNORE] * len(prompt) + target, task, truncated)

    def draw(self, rng: random.Random, caption_share: float) -> Example:
        index = rng.randrange(len(self.samples))
        return self.example(index, "caption" if rng.random() < caption_share else "code")


def collate(examples: list[Example], pad_id: int) -> Batch:
    length = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), length), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), length), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), length), dtype=torch.long)
    for row, example in enumerate(examples):
        ids[row, :len(example.ids)] = torch.tensor(example.ids)
        labels[row, :len(example.labels)] = torch.tensor(example.labels)
        mask[row, :len(example.ids)] = 1
    return Batch(torch.cat([e.pixel_values for e in examples]), ids, mask, labels, [e.task for e in examples],
                 sum(e.truncated for e in examples))
