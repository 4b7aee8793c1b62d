"""The cpu graph's layout (services/models/tokenfd/cpu_encoder.py): the same function as the
portable encoder, piece by piece and whole, and the graph it exports to."""
import collections

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from services.models.tokenfd import checkpoint as ckpt
from services.models.tokenfd.artifacts import CPU_ONNX_FILE
from services.models.tokenfd.cpu_encoder import (
    CpuSimilarityEncoder,
    SubPixelUpsample,
    fused_attention,
    interleave_phases,
)
from services.models.tokenfd.export_onnx import CPU_OPSET
from services.models.tokenfd.modeling import SimilarityEncoder

TOLERANCE = 1e-4


def _deconv_and_norm(c_in, c_out, *, bias, seed):
    torch.manual_seed(seed)
    deconv = nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=bias)
    norm = nn.BatchNorm2d(c_out)
    with torch.no_grad():   # running statistics far from the identity, so a missed fold shows
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.2, 3)
        norm.weight.uniform_(0.5, 2)
        norm.bias.uniform_(-1, 1)
    return deconv.eval(), norm.eval()


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("c_in, c_out, side", [(16, 8, 6), (8, 16, 5)])
def test_sub_pixel_form_equals_transposed_convolution_with_batch_norm(c_in, c_out, side, bias):
    deconv, norm = _deconv_and_norm(c_in, c_out, bias=bias, seed=c_in + side)
    x = torch.randn(3, c_in, side, side)
    with torch.no_grad():
        expected = norm(deconv(x))
        ours = SubPixelUpsample(deconv, norm)(x)
    assert ours.shape == expected.shape == (3, c_out, 2 * side, 2 * side)
    assert torch.abs(ours - expected).max() < 1e-5


def test_sub_pixel_form_refuses_another_geometry():
    deconv = nn.ConvTranspose2d(4, 4, kernel_size=3, stride=2, padding=1, bias=False)
    with pytest.raises(ValueError, match="kernel 4, stride 2, padding 1"):
        SubPixelUpsample(deconv, nn.BatchNorm2d(4))


def test_phases_interleave_row_phase_then_column_phase():
    side = 3
    maps = [torch.full((1, 2, side * side), float(phase)) for phase in range(4)]
    maps[0][0, 1, 4] = 9.0                         # phase (0, 0), position (m, n) = (1, 1)
    out = interleave_phases(maps, side)
    assert out.shape == (1, 2, 2 * side, 2 * side)
    rows, cols = np.meshgrid(np.arange(2 * side), np.arange(2 * side), indexing="ij")
    assert np.array_equal(out[0, 0].numpy(), (2 * (rows % 2) + cols % 2).astype(np.float32))
    assert out[0, 1, 2, 2] == 9.0                  # (2m + r, 2n + s) = (2, 2)


@pytest.fixture(scope="module")
def tiny_model(tiny_checkpoint):
    model, _ = ckpt.load_model(tiny_checkpoint)
    return model.eval()


def test_cpu_layout_computes_the_portable_encoder(tiny_model):
    rng = np.random.default_rng(3)
    pixels = torch.from_numpy(rng.standard_normal((2, 3, 448, 448), dtype=np.float32))
    queries = torch.from_numpy(rng.standard_normal((2, 3, tiny_model.config.feature_dim), dtype=np.float32))
    with torch.inference_mode():
        expected = SimilarityEncoder(tiny_model)(pixels, queries)
        with fused_attention(tiny_model):
            ours = CpuSimilarityEncoder(tiny_model)(pixels, queries)
    assert ours.shape == expected.shape == (2, 3, 128, 128)
    assert torch.abs(ours - expected).max() <= TOLERANCE
    assert expected.std() > 0.05


def test_fused_attention_is_undone_afterwards(tiny_model):
    before = tiny_model.vision_model.config._attn_implementation
    with fused_attention(tiny_model):
        assert {layer.attention.config._attn_implementation
                for layer in tiny_model.vision_model.encoder.layer} == {"sdpa"}
    assert tiny_model.vision_model.config._attn_implementation == before == "eager"


def test_exported_cpu_graph_has_the_cpu_layout(tiny_export):
    model = onnx.load(str(tiny_export / CPU_ONNX_FILE))
    (loop,) = [node for node in model.graph.node if node.op_type == "Loop"]   # tile by tile (tile_loop)
    body = onnx.helper.get_attribute_value(loop.attribute[0])
    ops = collections.Counter(node.op_type for node in body.node)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) == CPU_OPSET
    assert ops["Attention"] >= 1 and "Softmax" not in ops            # fused attention, not matmul-softmax-matmul
    assert "ConvTranspose" not in ops and ops["Conv"] == 1 + 2 * 4   # patch embedding + 4 phases per upsample
    assert ops["DepthToSpace"] <= 1                                  # only the first upsample is interleaved
