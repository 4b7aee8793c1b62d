"""TokenFD-mini's sizes and the training recipe's defaults."""
from __future__ import annotations

from dataclasses import dataclass

from services.models.tokenfd.config import TokenFDConfig, VisionConfig


def mini_config(vocab_size: int, layers: int = 4, hidden: int = 192) -> TokenFDConfig:
    """An InternViT of `layers` at `hidden` (heads of 64, an MLP of 4x), TokenFD's upsampler and a 128-d
    feature space; the 448 tile, 14-pixel patches and 128x128 maps of the serving path stay, so the
    same export and Triton model serve it. The default is the issue's trial shape (4 layers at 192,
    about 3 M parameters), which v1-v3 and CodePercept-mini's encoder have."""
    if hidden % 64:
        raise ValueError(f"hidden must be a multiple of the 64-wide heads, got {hidden}")
    return TokenFDConfig(VisionConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=hidden // 64,
                                      intermediate_size=4 * hidden), feature_dim=128, vocab_size=vocab_size,
                         name="tokenfd-mini")


@dataclass(frozen=True)
class Recipe:
    # The run's length in steps, so a rerun on another machine trains the same schedule. v1: 7,500 steps
    # at about 0.67 s in fp32. With the forward pass and loss in bfloat16 (`bf16`), 14,000 steps and their
    # evaluations took 102 minutes in v3's run on 2 idle cores whose CPU has bfloat16 matrix units (AMX),
    # and 125 minutes on a CPU without them (docs/tokenfd-mini.md, "Rerun 2"). On shared cores a step costs
    # 2-10x more: train alone.
    # The budget is counted in steps, so a slower machine trains the same schedule and reports its time
    # (the record's trained_s); the time budget only stops a run that has stalled.
    steps: int = 14000
    time_budget_s: float = 10800.0  # 3 h: a stall guard, well past the schedule on a slow day
    batch: int = 2                 # 448-pixel crops per step
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: int = 200
    threads: int = 2
    seed: int = 0
    # Forward pass and loss under bfloat16 autocast (weights, optimiser and held-out metric stay fp32):
    # 1.9x faster steps where the CPU has bfloat16 matrix units; elsewhere it still runs, slower.
    bf16: bool = True
    # The weight of the "where is this token?" term (objective.spatial_loss), v3's: held-out hit@0.5 0.47
    # where v2's objective (0) reached 0.38 with the same steps and data (docs/tokenfd-mini.md).
    spatial_weight: float = 1.0
    # The encoder's size (mini_config): v1-v3 had 4 layers at hidden 192.
    encoder_layers: int = 4
    encoder_hidden: int = 192
    positives: int = 1024          # token ids present in a crop scored per step (in practice all of them)
    negatives: int = 48            # absent token ids scored per step
    # Of those, how many are hard: absent pieces whose embeddings are nearest to a drawn piece's, so that a
    # word's map must beat the pieces that look like it. 0, v3's recipe: v5 drew 24 and was behind v3 from
    # step 7,000 on (docs/tokenfd-mini.md, "v5").
    hard_negatives: int = 0
    # The weight of the whole-vocabulary term (objective.vocabulary_loss): 0, v3's recipe. v6 ran it at 1 and at 0.1,
    # and both were behind v3 from step 3,000 on (docs/tokenfd-mini.md, "v6").
    vocabulary_weight: float = 0.0
    # The weight of the "is this token anywhere in the crop?" term (objective.presence_loss): 0, v3's recipe. v8
    # ran it at 2 as a second stage from v3 and told absent words apart no better (docs/tokenfd-mini.md,
    # "Stage 2 from v3").
    presence_weight: float = 0.0
    # A trained checkpoint to start from, a second stage (its weights, table, scale and bias; the optimiser starts
    # afresh; v7 and v8 started from v3); "" trains from scratch, as v1-v6 did.
    init: str = ""
    eval_every: int = 1000         # steps between held-out evaluations (and checkpoints)
    eval_queries: int = 200        # word queries of the held-out metric
