"""The ViT's names both ways: a checkpoint written here (TokenFD-mini) goes back to the upstream layout
through `internvit.to_upstream`, the inverse of the loader's `convert`, and must come back whole."""
import numpy as np
import torch

from services.models.common import internvit
from services.models.tokenfd.config import get_config
from services.models.tokenfd.fixtures import random_upstream_state


def test_upstream_names_survive_the_round_trip_through_transformers_names():
    config = get_config("tiny")
    upstream = {name: torch.from_numpy(array) for name, array in random_upstream_state(config, seed=3).items()
                if name.startswith(internvit.PREFIX)}
    ours = {}
    for name, tensor in upstream.items():
        ours.update(internvit.convert(name, tensor, config.vision.hidden_size))
    assert not set(ours) & set(upstream)   # every ViT name is renamed (a rule left out would pass through)
    back = internvit.to_upstream(ours)
    assert set(back) == set(upstream)
    for name, tensor in upstream.items():
        np.testing.assert_array_equal(back[name].numpy(), tensor.numpy(), err_msg=name)


def test_names_that_are_not_the_vits_pass_unchanged():
    tensor = torch.zeros(2)
    assert internvit.to_upstream({"upsample.0.weight": tensor}) == {"upsample.0.weight": tensor}
