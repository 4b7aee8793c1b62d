"""TokenFD's token-mask alignment: each pixel's feature is pulled towards the embedding of the token
drawn there and pushed from the others.

For a crop and a set of query ids (those drawn in it, and absent ones), the logit of pixel p for
id t is s * cos(f_p, e_t) + b, with a learned scale s = exp(t_prime) and bias b (upstream's names;
the loader drops them). The loss is per-pixel BCE against the id's soft mask plus a dice term on
the ids that are present: BCE alone is dominated by the background that covers most of a page;
dice scores each token's mask as a whole, so a 3-pixel punctuation mark counts like a title.
BCE and dice score each id on its own, and with both sides learned they let the model collapse:
every feature drifts away from every embedding, and all maps fall below the threshold together
(a first 29-minute run stayed at hit@0.5 = 0 with cosines of -0.5 on text and -0.7 off it). The
third term makes the ids compete: each text cell is classified among the crop's ids and a
background class whose logit is -b, by softmax cross-entropy; a cell is only right when its own
token is the most similar. Because the logit is an affine function of the cosine, p = 0.5 is
cos = -b / s, a threshold the model learned; the served threshold is calibrated on held-out crops
(train.py) and recorded with the checkpoint beside it.

The three terms above all read a cell at a time: "which token is drawn here?". Locate asks the other
question: "where is this token?", and answers with the cell where the query's similarity peaks. v1 and
v2 learned the first question well enough and still put a query's peak on a neighbouring word of the
same kind (`address` on `Delivery`): nothing compared a token's similarity on its own cells with its
similarity on the other words' cells. The fourth term (v3, `spatial_loss`) does: each present token's
map is a distribution over the crop's cells (a softmax of s * cos, in which b cancels), scored against
its mask made into a distribution, so the token's similarity must peak on its own cells, relative to
every other cell of the crop.

None of these compares a cell's own token with the pieces that are not in the crop, except BCE pushing
each absent id down on its own; v3 gives a word that is not on the page a match about as strong as a
drawn word's (`module` 0.363 on the semantic page, `address` 0.414). The fifth term (`vocabulary_loss`,
`Recipe.vocabulary_weight`) classifies text cells among the whole vocabulary: the drawn token must be the
most similar of all the pieces, the question a query for an absent word asks. The sixth (`presence_loss`,
`Recipe.presence_weight`) asks it of the crop as a whole: an absent piece must not be similar to any few cells.
As second stages from v3 neither told absent words apart better (docs/tokenfd-mini.md, "Stage 2 from v3").
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

DICE_WEIGHT = 1.0
DICE_SMOOTH = 1.0
CONTRAST_WEIGHT = 1.0
# (the spatial term's weight is the recipe's: Recipe.spatial_weight, 1 since v3; 0 is v2's objective)
# A cell is a token's (for the softmax term) when that token covers at least this share of it, and
# background when text covers less than BACKGROUND_COVER of it; cells in between are not scored.
OWNED_COVER = 0.5
BACKGROUND_COVER = 0.05
# Text cells a step scores against the whole vocabulary, at most, per crop (a sample: the term's cost
# grows with cells x vocabulary).
VOCABULARY_CELLS = 512
# The cells whose logits make an id's crop-level logit in `presence_loss`.
PRESENCE_CELLS = 8


def logits(features: torch.Tensor, embeddings: torch.Tensor, t_prime: torch.Tensor, bias: torch.Tensor,
           grid: int) -> torch.Tensor:
    """(S, D) features of one crop x (K, D) embeddings -> (K, grid, grid) logits."""
    cosine = F.normalize(embeddings, dim=-1) @ F.normalize(features, dim=-1).T
    return (cosine * t_prime.exp() + bias).view(-1, grid, grid)


def contrast_loss(logit_maps: torch.Tensor, targets: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Per-cell softmax cross-entropy over the K ids (logit s * cos) and background (logit -b).

    `targets` must hold every id drawn in the crop: a cell of an id left out would count as background."""
    scores = (logit_maps - bias).flatten(1).T                           # (cells, K): s * cos
    cells = targets.flatten(1).T                                         # (cells, K) coverage
    cover, owner = cells.max(1)
    label = torch.where(cover >= OWNED_COVER, owner + 1, torch.zeros_like(owner))
    scored = (cover >= OWNED_COVER) | (cells.sum(1) < BACKGROUND_COVER)
    background = (-bias).expand(scores.shape[0], 1)
    classes = torch.cat([background, scores], dim=1)
    return F.cross_entropy(classes[scored], label[scored]) if scored.any() else logit_maps.new_zeros(())


def spatial_loss(logit_maps: torch.Tensor, targets: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each present id's mask (normalised to sum 1) against the softmax of its map over
    the crop's cells: the id's similarity must peak on its own cells. 0 when no id is present."""
    if not positive.any():
        return logit_maps.new_zeros(())
    scores = F.log_softmax(logit_maps[positive].flatten(1), dim=1)
    wanted = targets[positive].flatten(1)
    wanted = wanted / wanted.sum(1, keepdim=True).clamp_min(1e-6)
    return -(wanted * scores).sum(1).mean()


def vocabulary_loss(features: torch.Tensor, table: torch.Tensor, ids: torch.Tensor, targets: torch.Tensor,
                    positive: torch.Tensor, t_prime: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-cell softmax cross-entropy over the whole vocabulary (logit s * cos with every row of `table`,
    (V, D)) at up to VOCABULARY_CELLS cells a drawn id owns, against that id. features: (S, D) of one crop;
    ids, targets, positive: the crop's queries as alignment_loss takes them. 0 when no cell is owned."""
    drawn = targets[positive].flatten(1)                                  # (P, cells)
    if not len(drawn):
        return features.new_zeros((), dtype=torch.float32)
    cover, owner = drawn.max(0)
    cells = (cover >= OWNED_COVER).nonzero().squeeze(1)
    if not len(cells):
        return features.new_zeros((), dtype=torch.float32)
    if len(cells) > VOCABULARY_CELLS:
        cells = cells[torch.randperm(len(cells), generator=generator)[:VOCABULARY_CELLS]]
    cosine = F.normalize(features[cells], dim=-1) @ F.normalize(table, dim=-1).T      # (n, V)
    return F.cross_entropy(cosine.float() * t_prime.exp(), ids[positive][owner[cells]])


def presence_loss(logit_maps: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """The question "is this token anywhere in the crop?": each id's crop logit is the mean of its
    PRESENCE_CELLS highest cell logits (a token covers a few dozen cells, so a few high cells are its evidence),
    scored by BCE against whether it is drawn. The per-cell terms average over cells, so a few stray cells where
    an absent piece is similar cost them little; here they are all that counts."""
    top = logit_maps.flatten(1).topk(PRESENCE_CELLS, dim=1).values.mean(1)
    return F.binary_cross_entropy_with_logits(top, positive.float())


def alignment_loss(logit_maps: torch.Tensor, targets: torch.Tensor, positive: torch.Tensor,
                   bias: torch.Tensor, spatial_weight: float = 0.0) -> dict:
    """logit_maps, targets: (K, G, G); positive: (K,) bool (the id is drawn in the crop); bias: b;
    spatial_weight: the weight of `spatial_loss` (0 leaves it out: v1's and v2's objective)."""
    bce = F.binary_cross_entropy_with_logits(logit_maps, targets)
    contrast = contrast_loss(logit_maps, targets, bias)
    spatial = spatial_loss(logit_maps, targets, positive) if spatial_weight else logit_maps.new_zeros(())
    dice = logit_maps.new_zeros(())
    if positive.any():
        probabilities = torch.sigmoid(logit_maps[positive]).flatten(1)
        wanted = targets[positive].flatten(1)
        overlap = (probabilities * wanted).sum(1)
        dice = (1 - (2 * overlap + DICE_SMOOTH) / (probabilities.sum(1) + wanted.sum(1) + DICE_SMOOTH)).mean()
    return {"loss": bce + DICE_WEIGHT * dice + CONTRAST_WEIGHT * contrast + spatial_weight * spatial,
            "bce": bce.detach(), "dice": dice.detach(), "contrast": contrast.detach(), "spatial": spatial.detach()}


def cosine_threshold(t_prime: float, bias: float) -> float:
    """The cosine at which the trained logit crosses 0 (p = 0.5)."""
    import math

    return -bias / math.exp(t_prime)
