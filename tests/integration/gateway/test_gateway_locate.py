"""Text location end to end: HTTP -> gateway -> real Triton -> back."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.integration.gateway.support import png


def _locate_json(client, image: bytes, **fields):
    return client.post("/v1/text/locate", json={"image": base64.b64encode(image).decode(), **fields})


def test_multipart_upload_returns_tokens_heatmaps_and_geometry(client):
    image = png(900, 500)
    # First learn each token's best similarity, then ask again with a threshold below all of
    # them: every token must then have at least one box, so the box checks below cannot be vacuous.
    probe = client.post("/v1/text/locate", files={"image": ("page.png", image, "image/png")},
                        data={"query": "invoice total", "heatmap_format": "none"})
    assert probe.status_code == 200, probe.text
    threshold = min(token["max_similarity"] for token in probe.json()["tokens"]) - 1e-3
    response = client.post("/v1/text/locate", files={"image": ("page.png", image, "image/png")},
                           data={"query": "invoice total", "threshold": str(threshold)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["threshold"] == pytest.approx(threshold)
    assert body["query"] == "invoice total"
    assert body["model"]["name"] and body["model"]["id"] and body["model"]["triton_model"] == "tokenfd_locate"
    assert body["image"] == {"width": 900, "height": 500}
    grid = body["grid"]
    assert grid["cols"] * grid["rows"] > 1 and grid["thumbnail"] is True
    assert grid["num_tiles"] == grid["cols"] * grid["rows"] + 1
    assert (grid["feature_width"], grid["feature_height"]) == (128 * grid["cols"], 128 * grid["rows"])
    assert len(body["tokens"]) >= 2
    for token in body["tokens"]:
        heatmap = token["heatmap"]
        assert heatmap["format"] == "png"
        picture = Image.open(io.BytesIO(base64.b64decode(heatmap["png_base64"])))
        assert picture.size == (heatmap["width"], heatmap["height"]) == (900, 500)
        assert len(token["boxes"]) > 0, token["max_similarity"]
        assert token["boxes"][0]["score"] == pytest.approx(token["max_similarity"])
        for box in token["boxes"]:
            assert 0 <= box["x0"] < box["x1"] <= 900 and 0 <= box["y0"] < box["y1"] <= 500
            assert box["score"] > body["threshold"]
    assert set(body["timings"]) == {"decode_s", "upstream_s", "postprocess_s", "total_s"}
    assert response.headers["x-request-id"] == body["request_id"]


def test_json_body_with_raw_grid_and_one_tile(client):
    response = _locate_json(client, png(448, 448), query="hello", heatmap_format="raw", threshold=-1.0,
                            max_boxes=1)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["grid"]["cols"], body["grid"]["rows"], body["grid"]["num_tiles"]) == (1, 1, 1)
    assert body["grid"]["thumbnail"] is False
    for token in body["tokens"]:
        values = np.asarray(token["heatmap"]["values"])
        assert values.shape == (128, 128)
        assert np.all(values >= -1.0001) and np.all(values <= 1.0001)  # cosine similarity
        assert abs(values.max() - token["max_similarity"]) < 1e-6
        # threshold -1 makes the whole map one region: exactly one box covering the image
        assert len(token["boxes"]) == 1
        assert token["boxes"][0]["x0"] == 0 and token["boxes"][0]["x1"] == 448


def test_no_heatmap_and_max_tiles(client):
    response = _locate_json(client, png(2000, 300), query="word", heatmap_format="none", max_tiles=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["grid"]["cols"] * body["grid"]["rows"] <= 2
    assert all(token["heatmap"] is None for token in body["tokens"])


def test_request_id_is_propagated(client):
    response = client.post(
        "/v1/text/locate", headers={"X-Request-ID": "req-42"},
        json={"image": base64.b64encode(png(64, 64)).decode(), "query": "x", "heatmap_format": "none"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    assert response.json()["request_id"] == "req-42"


def test_models_health_readiness(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["tokenfd_locate"] is True
    models = client.get("/v1/models").json()
    (locate,) = [card for card in models["data"] if card["task"] == "text-location"]
    assert locate["triton_model"] == "tokenfd_locate" and locate["ready"] is True


def test_openapi_documents_both_body_types(client):
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/text/locate"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(content)


def test_metrics_expose_route_templates_and_upstream_latency(client):
    _locate_json(client, png(64, 64), query="metrics", heatmap_format="none")
    client.get("/v1/does-not-exist")
    text = client.get("/metrics").text
    assert 'percept_gateway_requests_total{method="POST",route="/v1/text/locate",status="200"}' in text
    assert 'percept_gateway_request_duration_seconds_count{method="POST",route="/v1/text/locate",status="200"}' \
        in text
    assert "percept_gateway_requests_in_flight" in text
    assert 'percept_gateway_upstream_duration_seconds_count{model="tokenfd_locate",outcome="ok"}' in text
    assert "/v1/does-not-exist" not in text  # unmatched paths do not become labels
    assert 'route="(unmatched)"' in text


def test_heatmaps_only_of_the_tokens_asked_at_the_size_asked(client):
    image = png(900, 500)
    # A form sends heatmap_tokens as comma-separated indices; one past the query's tokens selects nothing.
    response = client.post("/v1/text/locate", files={"image": ("page.png", image, "image/png")},
                           data={"query": "invoice total", "heatmap_tokens": "1,40", "heatmap_max_side": "300"})
    assert response.status_code == 200, response.text
    tokens = response.json()["tokens"]
    assert 2 <= len(tokens) < 40
    assert [token["heatmap"] is not None for token in tokens] == [index == 1 for index in range(len(tokens))]
    heatmap = tokens[1]["heatmap"]
    assert (heatmap["width"], heatmap["height"]) == (300, 167)
    assert Image.open(io.BytesIO(base64.b64decode(heatmap["png_base64"]))).size == (300, 167)
    # JSON: a list (integral numbers are integers, 0.0 too); at most the setting's side
    # (PERCEPT_HEATMAP_MAX_SIDE, 1024 by default)
    body = _locate_json(client, png(2000, 1000), query="invoice total", heatmap_tokens=[0.0],
                        heatmap_max_side=1024).json()
    assert [token["heatmap"] is not None for token in body["tokens"]] == [index == 0 for index in
                                                                          range(len(body["tokens"]))]
    assert (body["tokens"][0]["heatmap"]["width"], body["tokens"][0]["heatmap"]["height"]) == (1024, 512)


@pytest.mark.parametrize("fields", [
    {"heatmap_tokens": [-1]}, {"heatmap_tokens": [64]}, {"heatmap_tokens": [10**30]}, {"heatmap_tokens": [0.5]},
    {"heatmap_tokens": list(range(17))}, {"heatmap_max_side": 1025}, {"heatmap_max_side": 15},
    {"max_matches": 101}, {"max_matches": -1}])
def test_locate_refuses_fields_out_of_their_documented_bounds_json(client, fields):
    # The defaults: PERCEPT_MAX_QUERY_TOKENS 64 (indices 0..63), PERCEPT_HEATMAP_MAX_SIDE 1024.
    refused = _locate_json(client, png(64, 48), query="invoice total", heatmap_format="none", **fields)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request", refused.text


@pytest.mark.parametrize("fields", [
    {"heatmap_tokens": "1,x"}, {"heatmap_tokens": "64"}, {"heatmap_tokens": "01"}, {"heatmap_tokens": ""},
    {"heatmap_tokens": ",".join(["0"] * 17)}, {"heatmap_tokens": "1, 2"}, {"heatmap_max_side": "1025"},
    {"max_matches": "101"}])
def test_locate_refuses_fields_out_of_their_documented_bounds_form(client, fields):
    refused = client.post("/v1/text/locate", files={"image": ("page.png", png(64, 48), "image/png")},
                          data={"query": "invoice total", "heatmap_format": "none", **fields})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request", refused.text


def test_the_largest_documented_values_are_accepted(client):
    image = png(64, 48)
    accepted = _locate_json(client, image, query="invoice total", heatmap_tokens=[63] * 16, heatmap_max_side=1024,
                            max_matches=100)
    assert accepted.status_code == 200, accepted.text
    assert all(token["heatmap"] is None for token in accepted.json()["tokens"])
    accepted = client.post("/v1/text/locate", files={"image": ("page.png", image, "image/png")},
                           data={"query": "invoice total", "heatmap_tokens": ",".join(["63"] * 16),
                                 "heatmap_max_side": "16", "max_matches": "100"})
    assert accepted.status_code == 200, accepted.text


def test_matches_of_the_whole_query_follow_the_threshold(client):
    # Threshold -1 makes each token's whole map one region covering the image: a one-token query
    # matches there, with its token's score; a longer one cannot chain (no region lies right of another).
    for query in ("the", "invoice total"):
        body = _locate_json(client, png(448, 448), query=query, heatmap_format="none", threshold=-1.0).json()
        tokens = body["tokens"]
        if len(tokens) == 1:
            (match,) = body["matches"]
            assert (match["x0"], match["y0"], match["x1"], match["y1"]) == (0, 0, 448, 448)
            assert match["score"] == pytest.approx(tokens[0]["max_similarity"]) and match["tokens"] == [0]
        else:
            assert body["matches"] == []
    seen = {len(_locate_json(client, png(448, 448), query=query, heatmap_format="none").json()["tokens"])
            for query in ("the", "invoice total")}
    assert 1 in seen and max(seen) > 1  # both branches above ran
    # Above every similarity there is nothing; max_matches=0 asks for none.
    body = _locate_json(client, png(448, 448), query="x", heatmap_format="none", threshold=1.0).json()
    assert body["matches"] == []
    body = _locate_json(client, png(448, 448), query="x", heatmap_format="none", threshold=-1.0, max_matches=0)
    assert body.json()["matches"] == []


def test_base64_with_padding_after_whole_quanta_is_refused_as_the_document_states(client):
    """b64decode(validate=True) alone takes "....=" after whole quanta; the document's pattern does not, so
    the gateway refuses it too (a schema-violating request was answered 200)."""
    image = next(data for data in (png(64, 48 + i) for i in range(32)) if len(data) % 3 == 0)
    encoded = base64.b64encode(image).decode()
    assert not encoded.endswith("=")
    assert _locate_json(client, image, query="total", heatmap_format="none").status_code == 200
    for tail in ("=", "===="):
        refused = client.post("/v1/text/locate", json={"image": encoded + tail, "query": "total",
                                                       "heatmap_format": "none"})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_image", refused.text
