"""The TokenVL network in torch (export, reference and tests only; never on a serving path).

    pixels (N, 3, 448, 448)
      -> InternViT, blocks 0..L-2 (= upstream hidden_states[-2]; block L-1 is not run)
      -> extra ViT block (upstream encoder_mt.vit_layer)                  (N, 1025, C)
      -> drop CLS, to a 32x32 map; TokenFD's upsample stack               (N, C, 128, 128)
      -> token abstractor: softmax(<x_k, w>) over each 4x4 window, weighted sum
                                                                          (N, 32, 32, C)
      -> pixel shuffle 0.5 (InternVL "v2")                                (N, 16, 16, 4C)
      -> projector: LayerNorm(4C), Linear(4C, H), GELU, Linear(H, H)      (N, 256, H)
    prompt ids -> embeddings; the <IMG_CONTEXT> rows replaced by the visual tokens
      -> LlamaForCausalLM (InternLM2 in the Llama layout, checkpoint.py)

The ViT and its block are transformers' InternVL vision classes configured exactly as
TokenFD's (services/models/tokenfd/modeling.py), the upsample stack is TokenFD's.
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.internvl.modeling_internvl import InternVLVisionLayer, InternVLVisionModel

from services.models.tokenfd.config import TokenFDConfig
from services.models.tokenfd.modeling import vision_config as tokenfd_vision_config
from services.models.tokenvl.config import ABSTRACTOR_WINDOW, PIXEL_SHUFFLE, TokenVLConfig


def llama_config(config: TokenVLConfig, attention: str = "sdpa") -> LlamaConfig:
    """InternLM2 as Llama: no biases, SiLU MLP, RMSNorm, untied embeddings (InternLM2 does
    not tie them; transformers 5 defaults InternVL to tied, so it is set explicitly)."""
    llm = config.llm
    result = LlamaConfig(
        vocab_size=llm.vocab_size, hidden_size=llm.hidden_size, intermediate_size=llm.intermediate_size,
        num_hidden_layers=llm.num_hidden_layers, num_attention_heads=llm.num_attention_heads,
        num_key_value_heads=llm.num_key_value_heads, head_dim=llm.head_dim, hidden_act="silu",
        max_position_embeddings=llm.max_position_embeddings, rms_norm_eps=llm.rms_norm_eps,
        rope_parameters={"rope_type": "default", "rope_theta": llm.rope_theta}, attention_bias=False,
        mlp_bias=False, tie_word_embeddings=False, bos_token_id=None, eos_token_id=None, pad_token_id=None)
    result._attn_implementation = attention
    return result


def _vision_config(config: TokenVLConfig):
    """TokenFD's exact InternViT configuration, with the blocks TokenVL runs."""
    vision = config.vision
    shortened = TokenFDConfig(vision.__class__(**{**vision.__dict__, "num_hidden_layers": config.vit_layers_used}),
                              feature_dim=config.llm.hidden_size, vocab_size=1)
    return tokenfd_vision_config(shortened)


def pixel_shuffle(x: torch.Tensor, scale: float = PIXEL_SHUFFLE) -> torch.Tensor:
    """InternVL's pixel shuffle, version 2: (n, w, h, c) -> (n, w*s, h*s, c/s^2)."""
    n, w, h, c = x.shape
    x = x.reshape(n, w, int(h * scale), int(c / scale))
    x = x.permute(0, 2, 1, 3).reshape(n, int(h * scale), int(w * scale), int(c / (scale * scale)))
    return x.permute(0, 2, 1, 3)


class TokenAbstractor(nn.Module):
    """Learned 4x4 weighted pooling: per window, softmax over the 16 positions of <x_k, w>."""

    def __init__(self, channels: int, window: int = ABSTRACTOR_WINDOW) -> None:
        super().__init__()
        self.window = window
        self.foreground_tokens = nn.Embedding(1, channels)   # upstream's weight (1, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:       # (N, C, S, S) -> (N, S/4, S/4, C)
        n, c, s, _ = x.shape
        k, g = self.window, s // self.window
        windows = x.reshape(n, c, g, k, g, k).permute(0, 2, 4, 3, 5, 1).reshape(n, g, g, k * k, c)
        scores = torch.matmul(windows, self.foreground_tokens.weight[0])             # (N, g, g, 16)
        weights = torch.softmax(scores, dim=-1).unsqueeze(-1)
        return (weights * windows).sum(dim=3)


class VisionEncoder(nn.Module):
    """pixel_values (N, 3, 448, 448) -> visual tokens (N, 256, H): the exported vision graph."""

    def __init__(self, config: TokenVLConfig) -> None:
        super().__init__()
        self.config = config
        C, M, H = config.vision.hidden_size, config.upsample_channels, config.llm.hidden_size
        vision = _vision_config(config)
        self.vision_model = InternVLVisionModel(vision)
        if not isinstance(self.vision_model.layernorm, nn.Identity):
            raise AssertionError("InternVLVisionModel must not apply a final norm (TokenVL uses the raw output)")
        self.extra_block = InternVLVisionLayer(vision)
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(C, M, kernel_size=4, stride=2, padding=1, bias=False), nn.BatchNorm2d(M),
            nn.ConvTranspose2d(M, C, kernel_size=4, stride=2, padding=1, bias=False), nn.BatchNorm2d(C))
        self.abstractor = TokenAbstractor(C)
        width = config.projector_width
        self.projector = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, H), nn.GELU(), nn.Linear(H, H))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        hidden = self.vision_model(pixel_values=pixel_values).last_hidden_state
        hidden = self.extra_block(hidden)[:, 1:]                                      # drop CLS
        n, _, channels = hidden.shape
        side = self.config.vision.patch_grid
        maps = self.upsample(hidden.transpose(1, 2).reshape(n, channels, side, side))
        tokens = pixel_shuffle(self.abstractor(maps))                                 # (N, 16, 16, 4C)
        return self.projector(tokens.reshape(n, -1, tokens.shape[-1]))


class TokenVLModel(nn.Module):
    def __init__(self, config: TokenVLConfig, attention: str = "sdpa") -> None:
        super().__init__()
        self.config = config
        self.vision = VisionEncoder(config)
        self.language_model = LlamaForCausalLM(llama_config(config, attention))

    def input_embeddings(self, ids: torch.Tensor, image_features: torch.Tensor | None,
                         img_context_id: int) -> torch.Tensor:
        """(1, T) ids -> (1, T, H) embeddings with the visual tokens at the <IMG_CONTEXT> rows."""
        embeds = self.language_model.get_input_embeddings()(ids)
        positions = ids[0] == img_context_id
        count = int(positions.sum())
        features = image_features.reshape(-1, embeds.shape[-1]) if image_features is not None else embeds[0, :0]
        if count != features.shape[0]:
            raise ValueError(f"{count} <IMG_CONTEXT> positions but {features.shape[0]} visual tokens")
        if count:
            embeds = embeds.clone()
            embeds[0, positions] = features.to(embeds.dtype)
        return embeds

    @torch.no_grad()
    def generate_greedy(self, ids: list[int], pixel_values: torch.Tensor | None, *, img_context_id: int,
                        stop_ids: list[int], max_new_tokens: int, guard=None) -> list[int]:
        """The reference: transformers `generate`, greedy, from inputs_embeds. `guard`: a (CodeGuard, token
        texts) pair whose refused tokens are never taken (the served model's code guard, code_guard.py)."""
        tensor = torch.tensor([ids])
        features = self.vision(pixel_values) if pixel_values is not None and len(pixel_values) else None
        embeds = self.input_embeddings(tensor, features, img_context_id)
        processors = [] if guard is None else [_GuardMask(*guard)]
        out = self.language_model.generate(inputs_embeds=embeds, attention_mask=torch.ones_like(tensor),
                                           max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop_ids,
                                           pad_token_id=stop_ids[0], num_beams=1, logits_processor=processors)
        return out[0].tolist()


class _GuardMask:
    """A logits processor: every token the code guard refuses after the tokens generated so far gets -inf
    (the served greedy takes the best token the guard accepts: the same choice, read from the whole vocabulary)."""

    def __init__(self, guard, texts: list[str]) -> None:
        self.guard, self.texts, self.fed = guard, texts, 0

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        from services.models.tokenvl.triton.code_guard import token_text

        if self.guard is None:                            # it gave way: the rest is the model's own
            return scores
        for token in input_ids[0, self.fed:].tolist():   # with inputs_embeds: the generated tokens only
            self.guard.advance(token_text(self.texts, token))
        self.fed = input_ids.shape[1]
        refused = [token for token in range(scores.shape[-1])
                   if not self.guard.accepts(token_text(self.texts, token))]
        if len(refused) < scores.shape[-1]:
            scores[:, refused] = float("-inf")
        else:                                             # none acceptable: the guard gives way, as served
            self.guard = None
        return scores
