"""TokenFD's token-mask alignment: each pixel's feature is pulled towards the embedding of the token
drawn there and pushed from the others.

For a crop and a set of query ids (those drawn in it, and absent ones), the logit of pixel p for
id t is s * cos(f_p, e_t) + b, with a learned scale s = exp(t_prime) and bias b (upstream's names;
the loader drops them). The loss is per-pixel BCE against the id's soft mask plus a dice term on
the ids that are present: BCE alone is dominated by the background that covers most of a page;
dice scores each token's mask as a whole, so a 3-pixel punctuation mark counts like a title.
Because the logit is an affine function of the cosine, p = 0.5 is cos = -b / s: the threshold the
served cosine maps are read at is a number the model learned, recorded with the checkpoint.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

DICE_WEIGHT = 1.0
DICE_SMOOTH = 1.0


def logits(features: torch.Tensor, embeddings: torch.Tensor, t_prime: torch.Tensor, bias: torch.Tensor,
           grid: int) -> torch.Tensor:
    """(S, D) features of one crop x (K, D) embeddings -> (K, grid, grid) logits."""
    cosine = F.normalize(embeddings, dim=-1) @ F.normalize(features, dim=-1).T
    return (cosine * t_prime.exp() + bias).view(-1, grid, grid)


def alignment_loss(logit_maps: torch.Tensor, targets: torch.Tensor, positive: torch.Tensor) -> dict:
    """logit_maps, targets: (K, G, G); positive: (K,) bool (the id is drawn in the crop)."""
    bce = F.binary_cross_entropy_with_logits(logit_maps, targets)
    dice = logit_maps.new_zeros(())
    if positive.any():
        probabilities = torch.sigmoid(logit_maps[positive]).flatten(1)
        wanted = targets[positive].flatten(1)
        overlap = (probabilities * wanted).sum(1)
        dice = (1 - (2 * overlap + DICE_SMOOTH) / (probabilities.sum(1) + wanted.sum(1) + DICE_SMOOTH)).mean()
    return {"loss": bce + DICE_WEIGHT * dice, "bce": bce.detach(), "dice": dice.detach()}


def cosine_threshold(t_prime: float, bias: float) -> float:
    """The cosine at which the trained logit crosses 0 (p = 0.5)."""
    import math

    return -bias / math.exp(t_prime)
