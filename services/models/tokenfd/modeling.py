"""The TokenFD network (torch; export, reference and tests only).

    pixels (N, 3, 448, 448)
      -> InternViT (transformers' InternVLVisionModel): raw output of the last block,
         no final norm                                        (N, 1 + 32*32, C)
      -> drop CLS, to a 32x32 map                             (N, C, 32, 32)
      -> upsample: ConvT(C, C/2, 4, s2) BN ConvT(C/2, C, 4, s2) BN, no activation
                                                              (N, C, 128, 128)
      -> ocr_mlp: LayerNorm, Linear(C, D), GELU, Linear(D, D) (N, 16384, D)

A query is a lookup in `tok_embeddings` (a frozen copy of the LLM's input
embeddings), and the similarity map is the cosine of each query token with each
feature, without temperature. Module and parameter names below are the upstream
ones where transformers has no module (upsample, ocr_mlp, tok_embeddings), so only
the ViT needs a name map (checkpoint.py).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from transformers import InternVLVisionConfig, InternVLVisionModel

from services.models.tokenfd.config import PAD_TOKEN_ID, TokenFDConfig

# Guards the cosine against an all-zero vector (F.normalize's default).
NORM_EPS = 1e-12


def vision_config(config: TokenFDConfig) -> InternVLVisionConfig:
    """InternVLVisionConfig that computes exactly upstream's InternViT forward:
    pre-norm blocks with per-channel layer scale, qkv bias, no q/k norm, exact GELU,
    no dropout, and no final norm (use_mean_pooling=True makes `layernorm` an
    Identity, so last_hidden_state is the last block's raw output). Eager attention:
    a plain matmul-softmax-matmul graph that every exporter handles."""
    v = config.vision
    vision = InternVLVisionConfig(
        hidden_size=v.hidden_size,
        num_hidden_layers=v.num_hidden_layers,
        num_attention_heads=v.num_attention_heads,
        intermediate_size=v.intermediate_size,
        image_size=v.image_size,
        patch_size=v.patch_size,
        num_channels=3,
        attention_bias=v.qkv_bias,
        use_qk_norm=False,
        hidden_act=v.hidden_act,
        norm_type=v.norm_type,
        layer_norm_eps=v.layer_norm_eps,
        hidden_dropout_prob=0.0,
        attention_dropout=0.0,
        projection_dropout=0.0,
        use_mask_token=False,
        use_absolute_position_embeddings=True,
        use_mean_pooling=True,
        layer_scale_init_value=0.1,
    )
    vision._attn_implementation = "eager"
    return vision


class TokenFDModel(nn.Module):
    def __init__(self, config: TokenFDConfig) -> None:
        super().__init__()
        self.config = config
        C, H, D = config.vision.hidden_size, config.upsample_channels, config.feature_dim
        self.vision_model = InternVLVisionModel(vision_config(config))
        if not isinstance(self.vision_model.layernorm, nn.Identity):
            raise AssertionError("InternVLVisionModel must not apply a final norm (TokenFD uses the raw output)")
        # Upstream uses SyncBatchNorm; in eval it is this affine batch norm on running stats.
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(C, H, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(H),
            nn.ConvTranspose2d(H, C, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        self.ocr_mlp = nn.Sequential(nn.LayerNorm(C), nn.Linear(C, D), nn.GELU(), nn.Linear(D, D))
        self.tok_embeddings = nn.Embedding(config.vocab_size, D, padding_idx=PAD_TOKEN_ID)

    def tile_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(N, 3, 448, 448) -> (N, grid*grid, D), the per-tile token-level features."""
        return tile_features(self, pixel_values)

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        return self.tok_embeddings(ids)


def tile_features(model: "TokenFDModel | SimilarityEncoder", pixel_values: torch.Tensor) -> torch.Tensor:
    """Upstream's extract_feature_custom, over the modules both classes hold."""
    hidden = model.vision_model(pixel_values=pixel_values).last_hidden_state[:, 1:]   # drop CLS
    n, _, channels = hidden.shape
    side = model.config.vision.patch_grid
    maps = model.upsample(hidden.transpose(1, 2).reshape(n, channels, side, side))
    return model.ocr_mlp(maps.flatten(2).transpose(1, 2))


def cosine_maps(features: torch.Tensor, queries: torch.Tensor, grid: int) -> torch.Tensor:
    """(N, S, D) features x (N, T, D) queries -> (N, T, grid, grid) cosine similarity.

    The features are not normalised in place: q_hat . f / |f| is the same number and
    never materialises a second (N, S, D) tensor, the largest in the graph."""
    q = F.normalize(queries, dim=-1, eps=NORM_EPS)
    inverse_norm = 1.0 / torch.linalg.vector_norm(features, dim=-1).clamp_min(NORM_EPS)   # (N, S)
    similarity = torch.matmul(q, features.transpose(1, 2)) * inverse_norm.unsqueeze(1)     # (N, T, S)
    return similarity.reshape(similarity.shape[0], similarity.shape[1], grid, grid)


class SimilarityEncoder(nn.Module):
    """The exported graph: pixels + query embeddings -> similarity maps. Holds the
    image path only (not the embedding table), so the (N, S, D) feature map stays
    inside the graph and the table is not baked into it."""

    def __init__(self, model: TokenFDModel) -> None:
        super().__init__()
        self.vision_model = model.vision_model
        self.upsample = model.upsample
        self.ocr_mlp = model.ocr_mlp
        self.config = model.config

    def forward(self, pixel_values: torch.Tensor, query_embeddings: torch.Tensor) -> torch.Tensor:
        features = tile_features(self, pixel_values)
        return cosine_maps(features, query_embeddings, self.config.feature_grid)
