"""`make train-codepercept`: train CodePercept-mini on the engine's corpus, resumably, and write its
TokenVL checkpoint.

    python -m services.models.codepercept.train --data DIR --heldout DIR --out DIR
        [--steps N] [--time-budget S] [--batch B] [--threads T] [--seed S] [--eval-every N]
        [--caption-share F] [--init-vision DIR] [--freeze-vision] [--no-code-guard]

  --data DIR         training corpus (corpus.py) with its tokenizer.json (tokenizer.py): the model's tokenizer
  --heldout DIR      held-out corpus (another engine seed) for the metrics
  --out DIR          DIR/state.pt (the resumable training state, written every --eval-every steps and at the
                     end) and DIR/checkpoint/ (the TokenVL upstream-layout checkpoint, fp16)
  --steps N          cosine schedule length, the run's last step
  --time-budget S    stop after S seconds of training, counted across resumes
  --init-vision DIR  start the ViT and upsampler from an upstream TokenFD checkpoint (TokenFD-mini's:
                     `make train-codepercept` passes models/tokenfd-mini-v1); without it they start from
                     random weights (the record says which)

Every step's samples come from random.Random((seed, step, i)): sample i of step s is the same in a
resumed run, and a caption_share of them are the caption task. Held-out metric every --eval-every steps:
teacher-forced next-token accuracy on the assistant's tokens of fixed held-out samples, per task. At the
end, a few held-out figures are decoded greedily and their code (the answer's ```python block, as code
perception reads it) is checked to parse (ast.parse); whether
it runs and how faithful it is is the evaluation's to measure (percept-eval).
"""
from __future__ import annotations

import ast
import dataclasses
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch.nn import functional as F

from services.codeperception.extraction import extract_code
from services.models.codepercept import checkpoint as mini_checkpoint
from services.models.codepercept.config import (
    CONTEXT_LENGTH,
    IMAGE_TOKENS,
    MAX_TILES,
    SYSTEM_MESSAGE,
    TASKS,
    Recipe,
    mini_config,
)
from services.models.codepercept.data import IGNORE, Batch, Example, Examples, collate
from services.models.codepercept.guard_names import guard_entry
from services.models.common import training
from services.models.common.training import recipe_parser, run_steps
from services.models.tokenvl.config import TokenVLConfig
from services.models.tokenvl.modeling import TokenVLModel, pixel_shuffle
from services.models.tokenvl.tokens import TOKENIZER_FILE, Tokenizer

STATE_FILE = training.STATE_FILE
CHECKPOINT_DIR = "checkpoint"
DECODE_MAX_TOKENS = 1024


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class Trainer:
    def __init__(self, data: Path, heldout: Path, out: Path, recipe: Recipe, *, init_vision: Path | None = None,
                 sizes: Callable[[int], TokenVLConfig] = mini_config, log=print) -> None:
        self.recipe, self.out, self.log = recipe, Path(out), log
        torch.set_num_threads(recipe.threads)
        # Denormal floats (tiny Adam moments and gradients once training settles) run 2-3x slower on CPU
        # (measured on TokenFD-mini: a step from 0.8 s to 1.5-1.75 s by step 1,000); flushed to zero.
        torch.set_flush_denormal(True)
        torch.manual_seed(recipe.seed)
        self.tokenizer_path = Path(data) / TOKENIZER_FILE
        self.tokenizer = Tokenizer.from_file(self.tokenizer_path)
        self.config = sizes(self.tokenizer.vocab_size)
        self.model = TokenVLModel(self.config)
        self.vision_init = "random"
        if init_vision is not None:
            self.vision_init = mini_checkpoint.init_vision_from_tokenfd(self.model, init_vision)
        vision = self._vision_modules()
        vision_params = [p for m in vision for p in m.parameters()]
        if recipe.freeze_vision:
            for p in vision_params:
                p.requires_grad_(False)
        ids = {id(p) for p in vision_params}
        rest = [p for p in self.model.parameters() if id(p) not in ids]
        groups = [{"params": rest, "lr": recipe.lr}]
        if not recipe.freeze_vision:
            groups.append({"params": vision_params, "lr": recipe.vision_lr})
        self.optimizer = torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay)
        self.train_data = Examples(data, self.tokenizer, max_target_tokens=recipe.max_target_tokens)
        self.heldout = Examples(heldout, self.tokenizer, max_target_tokens=recipe.max_target_tokens)
        self.step, self.elapsed_s, self.history, self.truncated = 0, 0.0, [], 0
        self._eval_examples: list[Example] | None = None
        self._resume()

    def _vision_modules(self) -> list[torch.nn.Module]:
        """The parts TokenFD-mini's weights can start: the ViT, its extra block and the upsampler."""
        vision = self.model.vision
        return [vision.vision_model, vision.extra_block, vision.upsample]

    # --- state ------------------------------------------------------------------
    def _state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                "elapsed_s": self.elapsed_s, "history": self.history, "truncated": self.truncated,
                "vision_init": self.vision_init, "recipe": dataclasses.asdict(self.recipe)}

    def save_state(self) -> None:
        training.save_state(self.out, self._state())

    def _resume(self) -> None:
        state = training.load_state(self.out)
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.elapsed_s, self.history = state["step"], state["elapsed_s"], state["history"]
        self.truncated, self.vision_init = state["truncated"], state["vision_init"]
        self.log(f"resumed from {self.out / STATE_FILE} at step {self.step} ({self.elapsed_s:.0f}s trained)")

    # --- one step -----------------------------------------------------------------
    def _lr_scale(self) -> float:
        r = self.recipe
        if self.step < r.warmup:
            return (self.step + 1) / r.warmup
        progress = min(1.0, (self.step - r.warmup) / max(1, r.steps - r.warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    def _set_mode(self, training: bool) -> None:
        self.model.train(training)
        if self.recipe.freeze_vision:                 # fixed batch-norm statistics too
            for module in self._vision_modules():
                module.eval()

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss, predictions, targets) over the assistant's tokens of the batch. VisionEncoder.forward's
        steps, written out so that a frozen ViT and upsampler run without autograd; the LM head runs on
        the scored positions only (the 256 image rows and the prompt need no logits)."""
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.recipe.bf16):
            return self._forward(batch)

    def _forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        model, hidden_size = self.model, self.config.llm.hidden_size
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.recipe.freeze_vision):
            features = model.vision.vision_model(pixel_values=batch.pixel_values).last_hidden_state
            features = model.vision.extra_block(features)[:, 1:]
            n, _, channels = features.shape
            side = self.config.vision.patch_grid
            maps = model.vision.upsample(features.transpose(1, 2).reshape(n, channels, side, side))
        tokens = pixel_shuffle(model.vision.abstractor(maps))
        visual = model.vision.projector(tokens.reshape(n, -1, tokens.shape[-1]))       # (tiles, 256, H)
        embeds = model.language_model.get_input_embeddings()(batch.ids)
        image = batch.ids == self.tokenizer.img_context_id
        embeds = embeds.masked_scatter(image.unsqueeze(-1), visual.reshape(-1, hidden_size).to(embeds.dtype))
        hidden = model.language_model.model(inputs_embeds=embeds, attention_mask=batch.attention_mask).last_hidden_state
        targets = batch.labels[:, 1:]
        scored = targets != IGNORE
        logits = model.language_model.lm_head(hidden[:, :-1][scored])
        return F.cross_entropy(logits.float(), targets[scored]), logits.argmax(-1), targets[scored]

    def train_step(self) -> dict:
        r = self.recipe
        examples = [self.train_data.draw(random.Random(f"{r.seed}/{self.step}/{i}"), r.caption_share)
                    for i in range(r.batch)]
        batch = collate(examples, self.tokenizer.im_end_id)
        self.truncated += batch.truncated
        scale = self._lr_scale()
        for group, base in zip(self.optimizer.param_groups, (r.lr, r.vision_lr), strict=False):
            group["lr"] = base * scale
        self._set_mode(True)
        loss, predictions, targets = self.forward(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]], 1.0)
        self.optimizer.step()
        self.step += 1
        return {"loss": float(loss.detach()), "accuracy": float((predictions == targets).float().mean()),
                "tokens": int(targets.numel()), "length": int(batch.ids.shape[1])}

    # --- held-out metrics ------------------------------------------------------------
    def _heldout_examples(self) -> list[Example]:
        if self._eval_examples is None:
            rng = random.Random(f"heldout/{self.recipe.seed}")
            self._eval_examples = [self.heldout.draw(rng, self.recipe.caption_share)
                                   for _ in range(self.recipe.eval_samples)]
        return self._eval_examples

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Teacher-forced next-token accuracy on the assistant's tokens of fixed held-out samples, per task."""
        self._set_mode(False)
        right = {task: 0 for task in TASKS}
        total = {task: 0 for task in TASKS}
        examples = self._heldout_examples()
        for start in range(0, len(examples), self.recipe.batch):
            for example in examples[start:start + self.recipe.batch]:   # one at a time: no padding to score
                _, predictions, targets = self._forward(collate([example], self.tokenizer.im_end_id))  # fp32
                right[example.task] += int((predictions == targets).sum())
                total[example.task] += int(targets.numel())
        self._set_mode(True)
        # plain floats: the history goes into state.pt, which is read back with weights_only=True
        result = {"token_accuracy": float(sum(right.values()) / max(1, sum(total.values())))}
        result.update({f"token_accuracy/{task}": float(right[task] / total[task]) for task in TASKS if total[task]})
        return result

    @torch.no_grad()
    def decode(self, count: int) -> dict:
        """Greedy code for the first `count` held-out figures (TokenVLModel's reference generation) and
        whether it parses."""
        self._set_mode(False)
        parsed, lengths, stopped = 0, [], 0
        for index in range(min(count, len(self.heldout))):
            example = self.heldout.example(index, "code")
            prompt = self.heldout.prompt_ids("code", len(example.pixel_values))
            ids = self.model.generate_greedy(prompt, example.pixel_values, img_context_id=self.tokenizer.img_context_id,
                                             stop_ids=[self.tokenizer.im_end_id], max_new_tokens=DECODE_MAX_TOKENS)
            generated = ids[len(prompt):] if ids[:len(prompt)] == prompt else ids
            stopped += bool(generated) and generated[-1] == self.tokenizer.im_end_id
            lengths.append(len(generated))
            code = extract_code(self.tokenizer.decode(generated))
            try:
                parsed += code is not None and bool(ast.parse(code))
            except (SyntaxError, ValueError):
                pass
        self._set_mode(True)
        n = max(1, len(lengths))
        return {"decoded": len(lengths), "parse_rate": parsed / n, "stop_rate": stopped / n,
                "mean_tokens": sum(lengths) / n}

    # --- the run --------------------------------------------------------------------
    def run(self, progress: bool = True) -> Path:
        run_steps(self, lambda metric: {"acc": f"{metric.get('token_accuracy', float('nan')):.3f}"}, progress)
        return self.export(self.decode(self.recipe.decode_samples))

    def export(self, decoded: dict | None = None) -> Path:
        record = {"steps": self.step, "trained_s": round(self.elapsed_s, 1), "recipe": dataclasses.asdict(self.recipe),
                  "machine": training.machine(), "vision_init": self.vision_init,
                  "parameters": count_parameters(self.model),
                  "truncated_targets": self.truncated,
                  "serving": {"max_tiles": MAX_TILES, "image_tokens": IMAGE_TOKENS, "context_length": CONTEXT_LENGTH,
                              "system_message": SYSTEM_MESSAGE, "questions": TASKS},
                  "heldout": self.history[-1] if self.history else {}, "greedy": decoded or {}}
        if self.recipe.code_guard:
            # what the served model's code guard lets a program read unbound (its keyword arguments,
            # comprehension variables): the names these training programs read so, and how many of them
            # the guard would refuse (0 when the corpus keeps to its rules)
            record["code_guard"] = guard_entry([s.code for s in self.train_data.samples])
        return mini_checkpoint.save(self.out / CHECKPOINT_DIR, self.config, self.model.state_dict(),
                                    self.tokenizer_path, record)


def main(argv: list[str] | None = None) -> int:
    defaults = Recipe()
    parser = recipe_parser("python -m services.models.codepercept.train", __doc__, defaults)
    parser.add_argument("--caption-share", type=float, default=defaults.caption_share)
    parser.add_argument("--init-vision", type=Path, default=None,
                        help="an upstream TokenFD checkpoint (models/tokenfd-mini-v1) to start the ViT from")
    parser.add_argument("--freeze-vision", action="store_true", help="keep the ViT and upsampler fixed")
    parser.add_argument("--fp32", action="store_true", help="train in float32 (slower)")
    parser.add_argument("--no-code-guard", dest="code_guard", action="store_false",
                        help="record no code guard names: the model is served without the code guard")
    args = parser.parse_args(argv)
    if min(args.steps, args.batch, args.threads, args.eval_every) < 1 or args.time_budget <= 0 \
            or not 0.0 <= args.caption_share <= 1.0:
        print("train: --steps, --batch, --threads, --eval-every and --time-budget must be positive, "
              "--caption-share in [0, 1]", file=sys.stderr)
        return 2
    recipe = dataclasses.replace(defaults, steps=args.steps, time_budget_s=args.time_budget, batch=args.batch,
                                 threads=args.threads, seed=args.seed, eval_every=args.eval_every,
                                 caption_share=args.caption_share, freeze_vision=args.freeze_vision,
                                 bf16=not args.fp32, code_guard=args.code_guard)
    out = Trainer(args.data, args.heldout, args.out, recipe, init_vision=args.init_vision).run()
    print(f"checkpoint: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
