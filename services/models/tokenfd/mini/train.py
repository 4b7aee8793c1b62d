"""`make train-tokenfd`: train TokenFD-mini on an engine corpus, resumably, and write its checkpoint.

    python -m services.models.tokenfd.mini.train --data DIR --heldout DIR --out DIR
        [--steps N] [--time-budget S] [--batch B] [--threads T] [--seed S] [--eval-every N] [--init DIR]

  --data DIR       training corpus (python -m services.datasets.tokenit); its tokenizer.model is the model's
  --heldout DIR    held-out corpus (another seed) for the metric: hit@0.5 of single-word queries
  --out DIR        DIR/state.pt (the resumable training state, written every --eval-every steps and at the
                   end) and DIR/checkpoint/ (the upstream-layout checkpoint, fp16)
  --steps N        cosine schedule length, the run's last step
  --time-budget S  a stall guard: stop after S seconds of training, counted across resumes (default 10800)
  --init DIR       start from a trained checkpoint's weights (a second stage; docs/tokenfd-mini.md)

Seeded: crop i of step s comes from random.Random((seed, s, i)), so a resumed run continues the
same sequence. A rerun with the same --out resumes from its last state.
"""
from __future__ import annotations

import dataclasses
import math
import random
import sys
from pathlib import Path

import numpy as np
import torch

from services.models.common import training
from services.models.common.training import recipe_parser, run_steps
from services.models.tokenfd.checkpoint import TOKENIZER_FILE, convert_state_dict, read_state_dict
from services.models.tokenfd.config import FEATURE_GRID
from services.models.tokenfd.mini import checkpoint as mini_checkpoint
from services.models.tokenfd.mini.calibrate import Query, answered
from services.models.tokenfd.mini.composer import CharComposer
from services.models.tokenfd.mini.config import Recipe, mini_config
from services.models.tokenfd.mini.data import Corpus, Crop, single_word_queries
from services.models.tokenfd.mini.objective import (
    alignment_loss,
    cosine_threshold,
    logits,
    presence_loss,
    vocabulary_loss,
)
from services.models.tokenfd.modeling import TokenFDModel, cosine_maps
from services.models.tokenfd.query_matches import UPSTREAM
from services.models.tokenfd.tokenizer import QueryTokenizer

STATE_FILE = training.STATE_FILE
CHECKPOINT_DIR = "checkpoint"
EVAL_CROPS = 32
# Cosine thresholds the held-out metric tries; the best is the model's calibrated threshold.
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 19))
# Hard negatives come from each piece's NEIGHBOURS nearest pieces by the composed embeddings, looked up
# again every NEIGHBOUR_REFRESH steps as the embeddings move (a lookup is one pass of the composer).
NEIGHBOURS = 16
NEIGHBOUR_REFRESH = 50


class Trainer:
    def __init__(self, data: Path, heldout: Path, out: Path, recipe: Recipe, log=print) -> None:
        self.recipe, self.out, self.log = recipe, Path(out), log
        torch.set_num_threads(recipe.threads)
        # Denormal floats (tiny Adam moments and gradients once training settles) run 2-3x slower on
        # CPU: a step went from 0.8 s to 1.5-1.75 s by step 1,000; flushed to zero it stays at 0.7 s.
        torch.set_flush_denormal(True)
        torch.manual_seed(recipe.seed)
        self.tokenizer_path = Path(data) / "tokenizer.model"
        self.tokenizer = QueryTokenizer.from_file(self.tokenizer_path)
        pieces = [self.tokenizer.processor.IdToPiece(i) for i in range(self.tokenizer.vocab_size)]
        self.config = mini_config(len(pieces), recipe.encoder_layers, recipe.encoder_hidden)
        self.model = TokenFDModel(self.config)
        self.model.tok_embeddings.requires_grad_(False)       # the composer makes the table
        self.composer = CharComposer(pieces, self.config.feature_dim)
        self.t_prime = torch.nn.Parameter(torch.tensor(math.log(10.0)))
        self.bias = torch.nn.Parameter(torch.tensor(-6.0))   # text is sparse: start near "absent"
        params = [p for p in self.model.parameters() if p.requires_grad] + list(self.composer.parameters())
        self.optimizer = torch.optim.AdamW([{"params": params}, {"params": [self.t_prime, self.bias],
                                            "weight_decay": 0.0}], lr=recipe.lr, weight_decay=recipe.weight_decay)
        self.train_data, self.heldout = Corpus(data), Corpus(heldout)
        self.step, self.elapsed_s, self.history = 0, 0.0, []
        self._eval_crops: list[Crop] | None = None
        self.neighbours: torch.Tensor | None = None           # (V, NEIGHBOURS) ids, for the hard negatives
        if recipe.init:
            self._start_from(Path(recipe.init))
        self._resume()

    # --- state ------------------------------------------------------------------
    def _state(self) -> dict:
        return {"model": self.model.state_dict(), "composer": self.composer.state_dict(),
                "t_prime": self.t_prime.data, "bias": self.bias.data, "optimizer": self.optimizer.state_dict(),
                "step": self.step, "elapsed_s": self.elapsed_s, "history": self.history,
                "neighbours": self.neighbours, "recipe": dataclasses.asdict(self.recipe)}

    def save_state(self) -> None:
        training.save_state(self.out, self._state())

    @torch.no_grad()
    def _start_from(self, checkpoint: Path) -> None:
        """Stage 2: a trained checkpoint's weights, read by the serving loader (strict). The composer is kept, its
        per-piece residual set so that its table starts as the checkpoint's; the scale and bias are the stored
        `t_prime` and `b`. The tokenizer must be the corpus's: the table's rows are its pieces."""
        if (checkpoint / TOKENIZER_FILE).read_bytes() != self.tokenizer_path.read_bytes():
            raise ValueError(f"{checkpoint} was trained with another tokenizer than {self.tokenizer_path}")
        stored = read_state_dict(checkpoint)
        self.model.load_state_dict(convert_state_dict(stored, self.config, source=str(checkpoint)))
        self.composer.residual.weight.add_(self.model.tok_embeddings.weight - self.composer.table())
        self.t_prime.copy_(stored["t_prime"].float().reshape(()))
        self.bias.copy_(stored["b"].float().reshape(()))
        self.log(f"starting from {checkpoint}")

    def _resume(self) -> None:
        state = training.load_state(self.out)
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.composer.load_state_dict(state["composer"])
        self.t_prime.data.copy_(state["t_prime"])
        self.bias.data.copy_(state["bias"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.elapsed_s, self.history = state["step"], state["elapsed_s"], state["history"]
        self.neighbours = state.get("neighbours")              # kept, so a resume draws the same negatives
        self.log(f"resumed from {self.out / STATE_FILE} at step {self.step} ({self.elapsed_s:.0f}s trained)")

    # --- one step -----------------------------------------------------------------
    def _lr(self) -> float:
        r = self.recipe
        if self.step < r.warmup:
            return r.lr * (self.step + 1) / r.warmup
        progress = min(1.0, (self.step - r.warmup) / max(1, r.steps - r.warmup))
        return r.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    def _queries(self, crop: Crop, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r = self.recipe
        present = crop.ids
        if len(present) > r.positives:
            present = present[torch.randperm(len(present), generator=generator)[:r.positives]]
        absent = torch.ones(self.config.vocab_size, dtype=torch.bool)
        absent[crop.ids] = False
        absent[:3] = False                                    # unk, bos, eos are never drawn
        hard = self._hard_negatives(crop.ids, absent, generator)
        absent[hard] = False
        candidates = absent.nonzero().squeeze(1)
        negatives = torch.cat([hard, candidates[torch.randperm(len(candidates), generator=generator)
                                                [:r.negatives - len(hard)]]])
        ids = torch.cat([present, negatives])
        # a crop of blank margin has no ids: negatives only
        keep = (crop.ids.unsqueeze(0) == present.unsqueeze(1)).float().argmax(1) if len(present) else present
        targets = torch.cat([crop.masks[keep],
                             torch.zeros(len(negatives), FEATURE_GRID, FEATURE_GRID)])
        positive = torch.cat([torch.ones(len(present), dtype=torch.bool),
                              torch.zeros(len(negatives), dtype=torch.bool)])
        return ids, targets, positive

    def _hard_negatives(self, drawn: torch.Tensor, absent: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Up to Recipe.hard_negatives absent ids: for drawn ids taken at random, each one's nearest
        neighbour that is not drawn in the crop (nor already taken)."""
        if not self.recipe.hard_negatives or self.neighbours is None or not len(drawn):
            return drawn.new_zeros(0)
        available, hard = absent.clone(), []
        for piece in drawn[torch.randperm(len(drawn), generator=generator)]:
            near = self.neighbours[piece]
            near = near[available[near]]
            if len(near):
                hard.append(near[0])
                available[near[0]] = False
                if len(hard) == self.recipe.hard_negatives:
                    break
        return torch.stack(hard) if hard else drawn.new_zeros(0)

    @torch.no_grad()
    def _refresh_neighbours(self) -> None:
        table = torch.nn.functional.normalize(self.composer.table(), dim=-1)
        similarity = table @ table.T
        similarity.fill_diagonal_(-2.0)
        similarity[:, :3] = -2.0                               # unk, bos, eos are never drawn
        self.neighbours = similarity.topk(NEIGHBOURS, dim=1).indices

    def train_step(self) -> dict:
        r = self.recipe
        if r.hard_negatives and (self.neighbours is None or self.step % NEIGHBOUR_REFRESH == 0):
            self._refresh_neighbours()
        crops = [self.train_data.crop(random.Random(f"{r.seed}/{self.step}/{i}")) for i in range(r.batch)]
        generator = torch.Generator().manual_seed(r.seed * 1_000_003 + self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        self.model.train()
        totals: dict[str, torch.Tensor] = {}
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=r.bf16):
            features = self.model.tile_features(torch.stack([c.pixels for c in crops]))
            table = self.composer(torch.arange(self.config.vocab_size)) if r.vocabulary_weight else None
            for crop, crop_features in zip(crops, features, strict=True):
                ids, targets, positive = self._queries(crop, generator)
                maps = logits(crop_features, self.composer(ids), self.t_prime, self.bias, FEATURE_GRID)
                terms = alignment_loss(maps.float(), targets, positive, self.bias, r.spatial_weight)
                if r.presence_weight:
                    presence = presence_loss(maps.float(), positive)
                    terms["loss"] = terms["loss"] + r.presence_weight * presence
                    terms["presence"] = presence.detach()
                if table is not None:
                    vocabulary = vocabulary_loss(crop_features, table, ids, targets, positive, self.t_prime, generator)
                    terms["loss"] = terms["loss"] + r.vocabulary_weight * vocabulary
                    terms["vocabulary"] = vocabulary.detach()
                for key, value in terms.items():
                    totals[key] = totals.get(key, 0) + value / len(crops)
        self.optimizer.zero_grad(set_to_none=True)
        totals["loss"].backward()
        torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]], 1.0)
        self.optimizer.step()
        self.step += 1
        return {key: float(value.detach()) for key, value in totals.items()}

    # --- held-out metric ------------------------------------------------------------
    def _heldout_crops(self) -> list[Crop]:
        if self._eval_crops is None:
            rng = random.Random(f"heldout/{self.recipe.seed}")
            # at the scale the default tiling serves each page at
            self._eval_crops = [self.heldout.crop(rng, index=i % len(self.heldout), jitter=False)
                                for i in range(EVAL_CROPS)]
        return self._eval_crops

    @torch.no_grad()
    def evaluate(self) -> dict:
        """hit@0.5 of single-word queries (words that occur once in the crop, at least 2 letters or
        digits) on held-out crops, decoded as the gateway decodes a query's matches (query_matches.py),
        at the calibrated threshold: the one of THRESHOLDS with the most hits on these crops (recorded
        with the checkpoint)."""
        self.model.eval()
        table = self.composer.table()
        hits = {threshold: [] for threshold in THRESHOLDS}   # per threshold: (token count, hit) per query
        crops = self._heldout_crops()
        budget = max(1, self.recipe.eval_queries // len(crops))
        for crop in crops:
            queries = single_word_queries(crop)[:budget]
            if not queries:
                continue
            features = self.model.tile_features(crop.pixels.unsqueeze(0))
            for text, box in queries:
                ids, _ = self.tokenizer.encode_query(text)
                query = Query(cosine_maps(features, table[ids].unsqueeze(0), FEATURE_GRID)[0].numpy(), box)
                for threshold in THRESHOLDS:
                    hits[threshold].append((len(ids), answered(query, threshold, UPSTREAM)))
        self.model.train()
        threshold = max(THRESHOLDS, key=lambda t: (sum(hit for _, hit in hits[t]), -t))
        outcomes = hits[threshold]
        by_length: dict[int, list[bool]] = {}
        for length, hit in outcomes:
            by_length.setdefault(min(length, 3), []).append(hit)
        # plain floats: the history goes into state.pt, which is read back with weights_only=True
        return {"hit@0.5": float(np.mean([hit for _, hit in outcomes])) if outcomes else 0.0,
                "queries": len(outcomes), "threshold": float(threshold),
                **{f"hit@0.5/{k}{'+' if k == 3 else ''}tok": float(np.mean(v)) for k, v in sorted(by_length.items())}}

    # --- the run --------------------------------------------------------------------
    def run(self, progress: bool = True) -> Path:
        run_steps(self, lambda metric: {"hit": f"{metric.get('hit@0.5', float('nan')):.2f}"}, progress)
        return self.export()

    def export(self) -> Path:
        state = mini_checkpoint.upstream_state(self.model.state_dict(), self.composer.table(), self.t_prime.data,
                                               self.bias.data)
        record = {"steps": self.step, "trained_s": round(self.elapsed_s, 1), "recipe": dataclasses.asdict(self.recipe),
                  "machine": training.machine(),
                  "threshold": self.history[-1]["threshold"] if self.history else
                  cosine_threshold(self.t_prime.item(), self.bias.item()),
                  "learned_threshold": cosine_threshold(self.t_prime.item(), self.bias.item()),
                  "heldout": self.history[-1] if self.history else {}}
        return mini_checkpoint.save(self.out / CHECKPOINT_DIR, self.config, state, self.tokenizer_path, record)


def main(argv: list[str] | None = None) -> int:
    defaults = Recipe()
    parser = recipe_parser("python -m services.models.tokenfd.mini.train", __doc__, defaults)
    parser.add_argument("--eval-queries", type=int, default=defaults.eval_queries)
    parser.add_argument("--fp32", action="store_true", help="train in float32 (v1's precision; slower)")
    parser.add_argument("--spatial-weight", type=float, default=defaults.spatial_weight,
                        help="weight of the 'where is this token?' term (1: v3's recipe; 0: v2's objective)")
    parser.add_argument("--encoder-layers", type=int, default=defaults.encoder_layers)
    parser.add_argument("--encoder-hidden", type=int, default=defaults.encoder_hidden, help="a multiple of 64")
    parser.add_argument("--hard-negatives", type=int, default=defaults.hard_negatives,
                        help="of the absent ids scored per step, how many are the drawn ids' nearest (v5: 24)")
    parser.add_argument("--vocabulary-weight", type=float, default=defaults.vocabulary_weight,
                        help="weight of the whole-vocabulary term (0: v3's recipe)")
    parser.add_argument("--presence-weight", type=float, default=defaults.presence_weight,
                        help="weight of the 'is this token anywhere in the crop?' term (0: v3's recipe)")
    parser.add_argument("--init", default=defaults.init,
                        help="a trained checkpoint directory to start from (stage 2); default: from scratch")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="the peak learning rate")
    parser.add_argument("--warmup", type=int, default=defaults.warmup, help="steps of linear warm-up")
    args = parser.parse_args(argv)
    if min(args.steps, args.batch, args.threads, args.eval_every, args.eval_queries) < 1 or args.time_budget <= 0 \
            or min(args.spatial_weight, args.vocabulary_weight, args.presence_weight) < 0 or args.encoder_layers < 1 \
            or args.encoder_hidden < 64 or args.encoder_hidden % 64 or args.lr <= 0 or args.warmup < 0 \
            or not 0 <= args.hard_negatives <= defaults.negatives:
        print("train: --steps, --batch, --threads, --eval-every, --eval-queries, --time-budget and --encoder-layers "
              "and --lr must be positive, --spatial-weight, --vocabulary-weight and --warmup at least 0, "
              "--encoder-hidden a multiple "
              f"of 64, --hard-negatives 0 to {defaults.negatives}", file=sys.stderr)
        return 2
    recipe = dataclasses.replace(defaults, steps=args.steps, time_budget_s=args.time_budget, batch=args.batch,
                                 threads=args.threads, seed=args.seed, eval_every=args.eval_every,
                                 eval_queries=args.eval_queries, bf16=not args.fp32,
                                 spatial_weight=args.spatial_weight, encoder_layers=args.encoder_layers,
                                 encoder_hidden=args.encoder_hidden, hard_negatives=args.hard_negatives,
                                 vocabulary_weight=args.vocabulary_weight, presence_weight=args.presence_weight,
                                 init=str(args.init or ""), lr=args.lr, warmup=args.warmup)
    out = Trainer(args.data, args.heldout, args.out, recipe).run()
    print(f"checkpoint: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
