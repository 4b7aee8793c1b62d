"""Requests to a model whose matches come from the page's ink (the trained TokenFD-mini records that reading):
the gateway reads the page's ink while the model runs, so a page that fails fails in both, and still gets its
one typed error; heatmaps are encoded only for the tokens asked, beside the ink's matches."""
from __future__ import annotations

import base64
import io

from PIL import Image

from tests.integration.gateway.support import truncated_png
from tests.integration.locate_semantic.page import TARGET, render_page


def test_a_broken_page_gets_its_typed_error_and_the_gateway_goes_on(trained_client):
    decoding = trained_client.post("/v1/text/locate", data={"query": TARGET, "heatmap_format": "none"},
                                   files={"image": ("page.png", render_page().png(), "image/png")}).json()["decoding"]
    assert decoding["boxes"] == "ink", "these requests are about the ink reading"
    response = trained_client.post("/v1/text/locate", data={"query": TARGET},
                                   files={"image": ("page.png", truncated_png(), "image/png")})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "truncated_image"
    assert trained_client.get("/healthz").status_code == 200


def test_heatmaps_only_for_the_tokens_asked_beside_the_ink_s_matches(trained_client):
    page = render_page()
    response = trained_client.post("/v1/text/locate", files={"image": ("page.png", page.png(), "image/png")},
                                   data={"query": f"{TARGET} book", "heatmap_format": "png", "heatmap_tokens": "0,40",
                                         "heatmap_max_side": "300"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["matches"]
    first, *others = body["tokens"]
    assert others, "a query of several tokens, so that some are not asked"
    heatmap = Image.open(io.BytesIO(base64.b64decode(first["heatmap"]["png_base64"])))
    assert heatmap.format == "PNG" and max(heatmap.size) == 300
    assert (heatmap.width, heatmap.height) == (first["heatmap"]["width"], first["heatmap"]["height"])
    assert all(token["heatmap"] is None for token in others)


def test_the_served_model_spells_a_one_word_query_when_asked_and_as_its_record_says(trained_triton, checkpoint):
    """tokenfd_locate returns a one-word query's letters when a request asks (SPELL), by default when its record
    spells, and never for a query of two words."""
    import numpy as np
    import tritonclient.grpc as grpcclient

    from services.models.tokenfd.checkpoint import read_record
    from services.models.tokenfd.triton import contract

    def letters(query: str, spell: bool | None = None) -> list[str]:
        inputs = [grpcclient.InferInput(contract.LOC_IMAGE, [1], "BYTES"),
                  grpcclient.InferInput(contract.LOC_QUERY, [1], "BYTES")]
        inputs[0].set_data_from_numpy(np.array([render_page().png()], dtype=np.object_))
        inputs[1].set_data_from_numpy(np.array([query.encode()], dtype=np.object_))
        if spell is not None:
            inputs.append(grpcclient.InferInput(contract.LOC_SPELL, [1], "BOOL"))
            inputs[-1].set_data_from_numpy(np.array([spell]))
        client = grpcclient.InferenceServerClient(trained_triton.grpc_url)
        try:
            result = client.infer(contract.TOKENFD_LOCATE, inputs)
        finally:
            client.close()
        return [text.decode() for text in result.as_numpy(contract.LOC_LETTER_TEXTS)]

    spelled = ["\u2581a", "d", "d", "r", "e", "s", "s"]
    assert letters(TARGET, spell=True) == spelled
    assert letters(TARGET) == (spelled if read_record(checkpoint).decoding.spells else [])
    assert letters(f"{TARGET} book", spell=True) == [] and letters(TARGET, spell=False) == []


def test_the_gateway_reads_a_one_word_query_s_letters(spelling_client):
    """A match's rank is its score less a shape penalty, plus the letters' reading only when they were read: the
    drawn word's rank above its score shows the gateway passed the model's letters to the reading."""
    body = spelling_client.post("/v1/text/locate", data={"query": TARGET, "heatmap_format": "none"},
                                files={"image": ("page.png", render_page().png(), "image/png")}).json()
    assert body["decoding"]["letters"] > 0, "a decoding that spells"
    best = body["matches"][0]
    assert best["mass"] > best["score"], best


def test_the_gateway_compares_the_page_s_ink_with_the_query_drawn_in_print(trained_client):
    """A match's score is its tokens' readings of its span, each at most the token map's peak, plus the decoding's
    `likeness` times its likeness to the query drawn in print: the drawn word scoring above every token's peak
    shows the gateway read the page's ink into that likeness."""
    body = trained_client.post("/v1/text/locate", data={"query": TARGET, "heatmap_format": "none"},
                               files={"image": ("page.png", render_page().png(), "image/png")}).json()
    assert body["decoding"]["likeness"] > 0, "a decoding that compares the ink with the query drawn"
    assert body["matches"][0]["score"] > max(token["max_similarity"] for token in body["tokens"]), body["matches"][0]
