"""CodePercept-mini's sizes, its prompts, the numbers its serving needs, and the recipe's defaults.

The model IS a TokenVL (services/models/tokenvl): the same config, loader, export and Triton model
serve it. What differs from a TokenVL checkpoint is written here once: one 448-pixel tile per image
(MAX_TILES, so 256 image tokens), a short system message (the template's default is InternVL's
Chinese one), the two user questions it was trained on, and the context it was trained to fill.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.models.tokenfd.mini.config import mini_config as tokenfd_mini_config
from services.models.tokenvl.config import TOKENS_PER_TILE, LLMConfig, TokenVLConfig, encoder_tiles

NAME = "codepercept-mini"
MAX_TILES = 1                      # tiles per image: one 448x448 tile, no thumbnail (serving's max_tiles)
IMAGE_TOKENS = TOKENS_PER_TILE * encoder_tiles(MAX_TILES)
MAX_TARGET_TOKENS = 1024           # assistant tokens of a training sample (longer programs are cut, counted)
CONTEXT_LENGTH = 1536              # image + prompt + target, with room: the served context_length
SYSTEM_MESSAGE = "You are CodePercept-mini. You write matplotlib code that redraws a STEM figure."
CODE_QUESTION = "Write the matplotlib code that draws this figure."
CAPTION_QUESTION = "Describe this figure."
TASKS = {"code": CODE_QUESTION, "caption": CAPTION_QUESTION}
VOCAB_SIZE = 4096                  # the code tokenizer's target size (special tokens included)
# The retrieval index the `verified` backend pairs the model with, published beside the weights (publish.py).
INDEX_FILE = "retrieval-index.npz"


def mini_config(vocab_size: int) -> TokenVLConfig:
    """TokenFD-mini's ViT (hidden 192, 4 layers of 3 heads, MLP 768, 448 tile, 14-pixel patches: its
    weights load as they are) and a 6-layer InternLM2 (Llama layout) at hidden 256, 4 query heads of
    64 over 2 KV heads, SwiGLU 704."""
    vision = tokenfd_mini_config(1).vision
    llm = LLMConfig(hidden_size=256, num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2,
                    intermediate_size=704, vocab_size=vocab_size, rms_norm_eps=1e-5, rope_theta=1_000_000.0,
                    max_position_embeddings=CONTEXT_LENGTH)
    return TokenVLConfig(vision, llm, name=NAME)


@dataclass(frozen=True)
class Recipe:
    # The run's length in steps, so a rerun on another machine trains the same model; the time budget
    # is a guard, not the stop. Measured on 2 idle cores (docs/codepercept-mini.md): a step of 8 samples
    # (T = 774-1,322 tokens), everything trained, in bfloat16 takes 2.2-3.4 s (median about 2.8 s; fp32
    # 3.2-7.2 s). 2,800 steps (22,400 samples, about 5 passes over the corpus) and their evaluations fit
    # the 2.5 h guard.
    steps: int = 2800
    time_budget_s: float = 9000.0   # 2.5 h of training
    batch: int = 8                  # samples per step
    lr: float = 1e-3
    vision_lr: float = 2e-4         # the ViT and upsampler (trained from TokenFD-mini's weights, or from scratch)
    weight_decay: float = 0.05
    warmup: int = 200
    threads: int = 2
    seed: int = 0
    caption_share: float = 0.25     # share of samples that are the caption task (the rest: code)
    freeze_vision: bool = False     # keep the ViT and upsampler fixed (abstractor, projector and LLM train)
    # Forward pass under bfloat16 autocast (weights, optimiser and metrics stay fp32), as TokenFD-mini's
    # recipe: 1.9x faster steps there, where the CPU has bfloat16 matrix units (AMX).
    bf16: bool = True
    eval_every: int = 250           # steps between held-out evaluations (and checkpoints)
    eval_samples: int = 48          # held-out samples of the teacher-forced token accuracy
    decode_samples: int = 6         # held-out figures greedily decoded at the end (does the code parse?)
    max_target_tokens: int = MAX_TARGET_TOKENS
    # Record the names the training programs read unbound, so the model is served with the code guard
    # (services/models/tokenvl/triton/code_guard.py): on the tuning seed it took best of 4's exec rate from
    # 0.82 to 0.89 (docs/codepercept-mini.md, "The code guard").
    code_guard: bool = True
