"""Image-to-code over the `retrieval` backend, all real processes (sandbox, code perception, gateway): a
held-out engine figure gets 200 with code, a render and a fidelity well above a blank canvas's; every
candidate says it was retrieved and from which engine program (`origin`, `neighbour`); any PNG or JPEG
gets an answer, never a 404; a bad image is a typed 4xx."""
from __future__ import annotations

import base64
import io
import random

import httpx
import pytest
from PIL import Image

from services.codeperception.fidelity import prepare_reference, score
from services.codeperception.retrieval.build import BuildPlan, build_index
from services.codeperception.sample_dataset import client_renderer
from services.codeperception.settings import RENDER_DPI, RETRIEVAL_K
from services.common.images import decode_image
from services.evaluation.synth import corpus
from services.evaluation.synth.families import FAMILIES
from tests.integration.gateway.conftest import DEAD_TRITON
from tests.integration.gateway.stem_support import CodePerceptionProcess
from tests.integration.gateway.support import png, running_gateway

INDEXED = ("data_table", "circuit")
PLAN = BuildPlan(corpus_seed=0, families=INDEXED, per_family=3, dpi=50)
HELD_OUT = corpus.program(1, INDEXED, 0)  # a data table of another corpus: not in the index


@pytest.fixture(scope="module")
def retrieval(stem, tmp_path_factory):
    """(an HTTP client of a gateway in front of code perception serving a small retrieval index, the
    held-out figure as PNG bytes)."""
    out = tmp_path_factory.mktemp("retrieval") / "index.npz"
    with stem.sandbox.client() as client:
        build_index(out, PLAN, client_renderer(client, PLAN.dpi), workers=2, progress_stream=io.StringIO())
        figure = client_renderer(client, RENDER_DPI.default)(HELD_OUT.code)
    with CodePerceptionProcess(stem.sandbox.target, stem.dataset, PERCEPT_CODEPERCEPTION_BACKEND="retrieval",
                               PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=str(out)) as service, \
            running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=service.target) as url, \
            httpx.Client(base_url=url, timeout=120) as http:
        yield http, figure


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _blank_fidelity(image: bytes) -> float:
    reference = decode_image(image, on_white=True)
    blank = io.BytesIO()
    Image.new("RGB", reference.size, "white").save(blank, "PNG")
    return score(prepare_reference(reference), blank.getvalue()).aggregate


def test_a_held_out_figure_gets_a_verified_program_and_each_candidate_its_origin(retrieval):
    http, figure = retrieval
    response = http.post("/v1/stem/image-to-code", json={"image": _b64(figure)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["backend"] == "retrieval" and body["code"] and body["caption"]
    assert base64.b64decode(body["render_png_base64"]).startswith(b"\x89PNG")
    assert body["fidelity"]["aggregate"] >= _blank_fidelity(figure) + 0.3, body["fidelity"]
    candidates = body["candidates"]
    assert len(candidates) == RETRIEVAL_K.default  # one asked for (the default): the k nearest verified
    assert [c["origin"] for c in candidates] == ["retrieval"] * len(candidates)
    assert [c["neighbour"]["rank"] for c in candidates] == list(range(len(candidates)))
    distances = [c["neighbour"]["distance"] for c in candidates]
    assert distances == sorted(distances) and distances[0] > 0  # held out: nothing is at distance 0
    assert candidates[0]["neighbour"]["family"] == HELD_OUT.family
    for candidate in candidates:
        neighbour = candidate["neighbour"]
        assert candidate["code"].strip() == FAMILIES[neighbour["family"]](random.Random(neighbour["seed"])).strip()
    assert body["code"] == candidates[body["best_index"]]["code"]


def test_any_png_or_jpeg_gets_an_answer_and_a_bad_image_a_typed_4xx(retrieval):
    http, figure = retrieval
    jpeg = io.BytesIO()
    decode_image(figure).save(jpeg, "JPEG", quality=85)
    for name, data, kind in (("figure.jpg", jpeg.getvalue(), "image/jpeg"), ("noise.png", png(200, 150), "image/png")):
        response = http.post("/v1/stem/image-to-code", files={"image": (name, data, kind)})
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        assert body["code"] and body["candidates"][body["best_index"]]["status"] == "ok", name
    response = http.post("/v1/stem/image-to-code", files={"image": ("x.png", b"this is not an image", "image/png")})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_image"
