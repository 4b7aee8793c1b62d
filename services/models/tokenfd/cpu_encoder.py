"""The encoder as exported for the cpu target: the same function as
modeling.SimilarityEncoder, laid out for the kernels ONNX Runtime runs fastest (torch;
export and tests only).

Three changes of layout, none of arithmetic (parity with the reference is tested):

- Attention is PyTorch's scaled_dot_product_attention, which the exporter writes as
  ONNX's fused Attention operator (opset 23) instead of matmul, softmax, matmul.
- Each ConvTranspose2d(kernel 4, stride 2, padding 1) + BatchNorm is four 2x2
  convolutions, one per output phase (sub-pixel form), with the batch norm folded into
  their weights. Each output pixel (2m + r, 2n + s) only ever sees 2 x 2 input pixels,
  so the phases do the same multiply-adds as the transposed convolution, but as
  ordinary convolutions, whereas ONNX Runtime's ConvTranspose is a GEMM into a column
  buffer 16x the output's channels followed by a scatter (col2im).
- The second upsample's four phases are never interleaved back into a 128 x 128 map:
  the head (LayerNorm, MLP, cosine) works on one position at a time, so it runs on each
  phase, and only the small similarity maps are interleaved at the end. That saves
  moving the largest tensor of the graph (N x C x 128 x 128) twice.

The portable graph (modeling.SimilarityEncoder, opset 18) stays what TensorRT reads.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn import functional as F

from services.models.tokenfd.modeling import TokenFDModel, cosine_maps

# Output phase r of a stride-2, kernel-4, padding-1 transposed convolution reads the
# input at m - 1 + r and m + r, through these kernel taps (first, second).
PHASE_TAPS = ((3, 1), (2, 0))
PHASES = ((0, 0), (0, 1), (1, 0), (1, 1))   # (r, s), row phase then column phase
# ... so phase 0 pads one zero before the input along its axis, phase 1 one after.
PHASE_PADS = ((1, 0), (0, 1))
ATTENTION = "sdpa"


class SubPixelUpsample(nn.Module):
    """ConvTranspose2d(C_in, C_out, 4, stride 2, padding 1, no bias) followed by an eval-mode
    BatchNorm2d, as four 2x2 convolutions over the zero-padded input, one per output phase."""

    def __init__(self, deconv: nn.ConvTranspose2d, norm: nn.BatchNorm2d) -> None:
        super().__init__()
        if (deconv.kernel_size, deconv.stride, deconv.padding, deconv.groups, deconv.output_padding) != \
                ((4, 4), (2, 2), (1, 1), 1, (0, 0)):
            raise ValueError(f"sub-pixel form is written for kernel 4, stride 2, padding 1, one group: {deconv}")
        with torch.no_grad():
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            shift = norm.bias - norm.running_mean * scale
            if deconv.bias is not None:
                shift = shift + deconv.bias * scale
            weight = deconv.weight                                   # (C_in, C_out, 4, 4)
            phases = [weight[:, :, PHASE_TAPS[r], :][:, :, :, PHASE_TAPS[s]].transpose(0, 1)
                      * scale[:, None, None, None] for r, s in PHASES]   # each (C_out, C_in, 2, 2)
        self.register_buffer("phase_weights", torch.stack(phases).contiguous())   # (4, C_out, C_in, 2, 2)
        self.register_buffer("bias", shift.detach().clone())

    def phases(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(N, C_in, H, W) -> the four (N, C_out, H, W) phases, in PHASES order. Each phase pads
        the input on the side it reads beyond (ONNX Runtime folds a zero Pad into the Conv)."""
        return [F.conv2d(F.pad(x, PHASE_PADS[s] + PHASE_PADS[r]), self.phase_weights[i], self.bias)
                for i, (r, s) in enumerate(PHASES)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, 2H, 2W), the phases interleaved (pixel shuffle)."""
        n, _, height, width = x.shape
        stacked = torch.stack(self.phases(x), dim=2)                 # (N, C_out, 4, H, W)
        return F.pixel_shuffle(stacked.reshape(n, -1, height, width), 2)


def interleave_phases(maps: list[torch.Tensor], side: int) -> torch.Tensor:
    """Four (N, T, side*side) maps in PHASES order -> (N, T, 2*side, 2*side)."""
    n, tokens = maps[0].shape[:2]
    stacked = torch.stack(maps, dim=2).reshape(n, tokens, 2, 2, side, side)    # (N, T, r, s, m, n)
    return stacked.permute(0, 1, 4, 2, 5, 3).reshape(n, tokens, 2 * side, 2 * side)


class CpuSimilarityEncoder(nn.Module):
    """pixels + query embeddings -> similarity maps, as modeling.SimilarityEncoder computes
    them. Holds its own sub-pixel weights; the ViT and head are the model's modules."""

    def __init__(self, model: TokenFDModel) -> None:
        super().__init__()
        first_deconv, first_norm, second_deconv, second_norm = model.upsample
        self.vision_model = model.vision_model
        self.first_upsample = SubPixelUpsample(first_deconv, first_norm)
        self.second_upsample = SubPixelUpsample(second_deconv, second_norm)
        self.ocr_mlp = model.ocr_mlp
        self.config = model.config

    def forward(self, pixel_values: torch.Tensor, query_embeddings: torch.Tensor) -> torch.Tensor:
        hidden = self.vision_model(pixel_values=pixel_values).last_hidden_state[:, 1:]   # drop CLS
        n, _, channels = hidden.shape
        side = self.config.vision.patch_grid
        doubled = self.first_upsample(hidden.transpose(1, 2).reshape(n, channels, side, side))
        maps = []
        for phase in self.second_upsample.phases(doubled):           # each (N, C, 2 side, 2 side)
            features = self.ocr_mlp(phase.flatten(2).transpose(1, 2))
            maps.append(cosine_maps(features, query_embeddings, 2 * side).flatten(2))
        return interleave_phases(maps, 2 * side)


@contextlib.contextmanager
def fused_attention(model: TokenFDModel):
    """The ViT on PyTorch's scaled_dot_product_attention while the cpu graph is traced; the
    model keeps its own attention afterwards."""
    vit = model.vision_model
    previous = vit.config._attn_implementation
    vit.set_attn_implementation(ATTENTION)
    try:
        yield
    finally:
        vit.set_attn_implementation(previous)
