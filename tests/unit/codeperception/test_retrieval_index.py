"""The retrieval index on images drawn here: the descriptor reads layout and aspect (not brightness), the
nearest of an indexed image is itself at distance 0, the file round-trips byte for byte and a file that
is not a usable index is refused by name; the backend's candidate count, order and origins."""
from __future__ import annotations

import asyncio
import dataclasses
import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from services.codeperception.backends.base import ORIGIN_RETRIEVAL, GenerationOptions, InputImage, candidate_count
from services.codeperception.backends.retrieval import RetrievalBackend
from services.codeperception.extraction import extract_code
from services.codeperception.retrieval import index as retrieval
from services.codeperception.retrieval.index import (
    Entry,
    IndexMeta,
    IndexUnusable,
    RetrievalIndex,
    describe,
    vectors,
)
from services.codeperception.settings import CodePerceptionSettings

FAMILIES = ("circles", "bars", "lines")


def _figure(kind: str, variant: int, size=(320, 240)) -> Image.Image:
    """A small drawing of one of three kinds; `variant` moves and resizes its parts."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    width, height = size
    if kind == "circles":
        radius = 30 + 6 * variant
        draw.ellipse([width / 2 - radius, height / 2 - radius, width / 2 + radius, height / 2 + radius],
                     outline="black", width=4)
    elif kind == "bars":
        for i in range(4):
            top = height - 30 - (i * 37 + variant * 11) % (height - 60)
            draw.rectangle([30 + i * 70, top, 70 + i * 70, height - 20], fill="navy")
    else:
        for i in range(3):
            y = 40 + i * 60 + variant * 5
            draw.line([20, y, width - 20, y + 40 - 20 * i], fill="black", width=3)
    return image


def _entries(per_kind: int = 3) -> list[Entry]:
    return [Entry(family=kind, seed=1000 * k + v, corpus_index=per_kind * k + v, code=f"# {kind} {v}\nprint({v})\n",
                  descriptor=describe(_figure(kind, v)))
            for k, kind in enumerate(FAMILIES) for v in range(per_kind)]


def _meta(count: int) -> IndexMeta:
    return IndexMeta(families=FAMILIES, corpus_seed=0, count=count, dpi=50)


@pytest.fixture()
def index() -> RetrievalIndex:
    entries = _entries()
    return RetrievalIndex.from_entries(_meta(len(entries)), entries)


def test_the_descriptor_is_ink_at_a_fixed_size_and_the_aspect():
    blank = describe(Image.new("RGB", (640, 480), "white"))
    assert blank.thumbnail.shape == (retrieval.THUMBNAIL_SIDE,) * 2 and blank.thumbnail.dtype == np.uint8
    assert not blank.thumbnail.any() and blank.aspect == pytest.approx(4 / 3)
    assert (describe(Image.new("RGB", (100, 200), "black")).thumbnail == 255).all()


def test_the_comparison_ignores_brightness_and_contrast_and_a_blank_image_is_zero():
    thumbnail = describe(_figure("bars", 0)).thumbnail
    fainter = (thumbnail // 2).astype(np.uint8)
    same, faint, blank = vectors(np.stack([thumbnail, fainter, np.zeros_like(thumbnail)]), np.ones(3))
    assert np.linalg.norm(same[:-1]) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(same - faint).max() < 0.02
    assert not blank.any()


def test_the_comparison_weighs_the_ink_and_its_edges_equally():
    """Two halves, each a unit vector over 1/sqrt(2): the sqrt of the ink (S*S) and its edge map ((S-1)^2)."""
    side = retrieval.THUMBNAIL_SIDE
    ink = np.zeros((side, side), np.uint8)
    ink[8:24, 8:24] = 200                                               # a filled square: edges only at its border
    (vector,) = vectors(ink[None], np.ones(1))
    assert vector.shape == (side * side + (side - 1) ** 2 + 1,)
    ink_half, edge_half = vector[:side * side].reshape(side, side), vector[side * side:-1].reshape(side - 1, side - 1)
    assert np.linalg.norm(ink_half) == pytest.approx(np.linalg.norm(edge_half)) == pytest.approx(2 ** -0.5)
    assert ink_half[16, 16] > 0 and edge_half[16, 16] < 0 < edge_half[16, 7]   # inside: ink, no edge; border: edge


def test_vectors_computed_in_chunks_are_those_of_one_pass(monkeypatch):
    """The index turns its thumbnails into vectors a chunk at a time (memory); the chunks must not show."""
    rng = np.random.default_rng(1)
    thumbnails = rng.integers(0, 256, (10, retrieval.THUMBNAIL_SIDE, retrieval.THUMBNAIL_SIDE)).astype(np.uint8)
    thumbnails[4] = 0                                                   # a blank one among them
    aspects = rng.uniform(0.5, 2.0, 10).astype(np.float32)
    whole = vectors(thumbnails, aspects)
    monkeypatch.setattr(retrieval, "VECTOR_CHUNK", 3)
    chunked = vectors(thumbnails, aspects)
    np.testing.assert_array_equal(chunked, whole)
    assert not chunked[4, :-1].any()
    assert np.linalg.norm(chunked[:, :-1], axis=1)[[0, 9]] == pytest.approx([1.0, 1.0], abs=1e-5)


def test_an_indexed_image_finds_itself_at_distance_zero(index):
    for kind in FAMILIES:
        matches = index.nearest(_figure(kind, 1), 3)
        assert (matches[0].family, matches[0].code) == (kind, f"# {kind} 1\nprint(1)\n")
        assert matches[0].distance == 0.0 and matches[0].rank == 0
        assert [m.rank for m in matches] == [0, 1, 2]
        assert [m.distance for m in matches] == sorted(m.distance for m in matches)


def test_a_resized_image_or_an_unseen_variant_finds_its_kind(index):
    for kind in FAMILIES:
        match = index.nearest(_figure(kind, 1).resize((640, 480)), 1)[0]  # four times the pixels, same look
        assert match.family == kind and match.distance < 0.2
    assert index.nearest(_figure("bars", 7), 1)[0].family == "bars"  # a variant the index does not hold


def test_the_aspect_ratio_counts():
    square, wide = describe(Image.new("RGB", (100, 100), "white")), describe(Image.new("RGB", (200, 100), "white"))
    meta = IndexMeta(families=("a", "b"), corpus_seed=0, count=2, dpi=50)
    index = RetrievalIndex.from_entries(meta, [Entry("a", 1, 0, "a", square), Entry("b", 2, 1, "b", wide)])
    assert index.nearest(Image.new("RGB", (190, 100), "white"), 2)[0].family == "b"
    assert index.nearest_to(square, 2)[1].distance == pytest.approx(retrieval.ASPECT_WEIGHT * np.log(2), rel=1e-4)


def test_ties_go_to_the_earlier_entry_and_k_is_capped_by_the_size():
    descriptor = describe(_figure("circles", 0))
    meta = IndexMeta(families=("a",), corpus_seed=0, count=3, dpi=50)
    index = RetrievalIndex.from_entries(meta, [Entry("a", seed, seed, str(seed), descriptor) for seed in range(3)])
    assert [m.seed for m in index.nearest_to(descriptor, 10)] == [0, 1, 2]


def test_the_nearest_are_those_of_the_exact_distances_near_duplicates_and_ties_included():
    """The search shortlists by a fast formula that cancels in float32; its answer must be the exact one's."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (30, retrieval.THUMBNAIL_SIDE, retrieval.THUMBNAIL_SIDE))
    # Near-duplicates of each of the first images, 1..8 pixels a grey level brighter (squared distances of
    # about 1e-7, below the fast formula's error), in shuffled order, and an exact copy (a tie).
    near = []
    for image in base[:4]:
        for pixels in rng.permutation(np.arange(1, 9)):
            copy = image.copy()
            copy.reshape(-1)[:pixels] += 1
            near.append(copy)
    thumbnails = np.clip(np.concatenate([base, np.stack(near), base[:4]]), 0, 255).astype(np.uint8)
    aspects = np.concatenate([rng.uniform(0.5, 2.0, 30), np.ones(36)]).astype(np.float32)
    aspects[:4] = 1.0
    meta = IndexMeta(families=("a",), corpus_seed=0, count=len(thumbnails), dpi=50)
    index = RetrievalIndex.from_entries(meta, [Entry("a", i, i, str(i), retrieval.Descriptor(t, float(a)))
                                               for i, (t, a) in enumerate(zip(thumbnails, aspects, strict=True))])
    every = vectors(thumbnails, aspects)
    for probe in range(8):
        difference = every - vectors(thumbnails[probe:probe + 1], aspects[probe:probe + 1])[0]
        exact = np.sqrt(np.einsum("ij,ij->i", difference, difference))
        for k in (1, 3, 5, 9):
            order = np.argsort(exact, kind="stable")[:k]
            found = index.nearest_to(retrieval.Descriptor(thumbnails[probe], float(aspects[probe])), k)
            assert [m.seed for m in found] == order.tolist()
            assert [m.distance for m in found] == [float(exact[i]) for i in order]
    assert index.nearest_to(retrieval.Descriptor(thumbnails[0], 1.0), 0) == []


def test_the_file_round_trips_with_the_same_bytes_and_no_pickle(index, tmp_path):
    first, second = index.save(tmp_path / "a.npz"), index.save(tmp_path / "b.npz")
    assert first.read_bytes() == second.read_bytes()  # no dates or build paths in the file
    with np.load(first, allow_pickle=False) as archive:
        assert set(archive.files) == set(retrieval._ARRAYS)
    loaded = RetrievalIndex.load(first)
    assert loaded.meta == index.meta and loaded.size == index.size
    assert [loaded.program(i) for i in range(loaded.size)] == [index.program(i) for i in range(index.size)]
    probe = _figure("lines", 2)
    assert loaded.nearest(probe, 4) == index.nearest(probe, 4)
    assert (first.stat().st_mode & 0o777) == 0o644


def test_a_file_that_is_not_a_usable_index_is_refused(index, tmp_path):
    with pytest.raises(FileNotFoundError):
        RetrievalIndex.load(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(IndexUnusable, match="not a retrieval index"):
        RetrievalIndex.load(tmp_path / "text.npz")
    saved = index.save(tmp_path / "index.npz")
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(tmp_path / "lacking.npz", "w") as target:
        for name in source.namelist():
            if name != "code.npy":
                target.writestr(name, source.read(name))
    with pytest.raises(IndexUnusable, match="lacks code"):
        RetrievalIndex.load(tmp_path / "lacking.npz")
    other = dataclasses.replace(index.meta, format="percept.retrieval-index/0")
    arrays = index._arrays()
    arrays.pop("meta")
    with pytest.raises(IndexUnusable, match="rebuild it"):
        RetrievalIndex.load(RetrievalIndex(other, **arrays).save(tmp_path / "old.npz"))
    arrays["code_offsets"] = arrays["code_offsets"][:-1]
    with pytest.raises(IndexUnusable, match="code_offsets"):
        RetrievalIndex(index.meta, **arrays)


# --- the backend over an index file -------------------------------------------------------

def _backend(path, **settings) -> RetrievalBackend:
    base = CodePerceptionSettings.from_env()
    return RetrievalBackend(dataclasses.replace(base, backend="retrieval", retrieval_index=path, **settings))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_the_backend_proposes_the_k_nearest_programs_with_their_origin(index, tmp_path):
    backend = _backend(index.save(tmp_path / "index.npz"), retrieval_k=3, max_candidates=8)
    asyncio.run(backend.start())
    assert backend.model == "retrieval:index"
    assert [candidate_count(backend, n) for n in (1, 3, 5, 8)] == [3, 3, 5, 8]
    prepared = backend.prepare(InputImage.decode(_png(_figure("bars", 2))))
    generations = [asyncio.run(backend.generate(prepared, GenerationOptions().for_candidate(i), 1.0))
                   for i in range(3)]
    assert extract_code(generations[0].text) == "# bars 2\nprint(2)\n"
    assert all(g.origin == ORIGIN_RETRIEVAL and g.finish_reason == "stop" for g in generations)
    assert [g.neighbour.rank for g in generations] == [0, 1, 2]
    assert generations[0].neighbour.family == "bars" and generations[0].neighbour.seed == 1002
    assert generations[0].neighbour.distance == 0.0 < generations[1].neighbour.distance


def test_the_backend_never_proposes_more_than_the_index_holds(index, tmp_path):
    backend = _backend(index.save(tmp_path / "index.npz"), retrieval_k=4, max_candidates=16)
    asyncio.run(backend.start())
    assert candidate_count(backend, 16) == index.size == 9


def test_a_missing_index_or_a_k_above_the_cap_stops_start_up(index, tmp_path):
    from services.codeperception.backends import BackendUnavailable

    with pytest.raises(BackendUnavailable, match=r"no index at .*none\.npz.*make retrieval-index"):
        asyncio.run(_backend(tmp_path / "none.npz").start())
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(BackendUnavailable, match="cannot be used.*make retrieval-index"):
        asyncio.run(_backend(tmp_path / "bad.npz").start())
    with pytest.raises(BackendUnavailable, match="RETRIEVAL_K=9 is above PERCEPT_MAX_CANDIDATES=8"):
        asyncio.run(_backend(index.save(tmp_path / "index.npz"), retrieval_k=9, max_candidates=8).start())


def test_every_origin_is_the_contracts_and_each_backend_states_its_own(tmp_path):
    from services.codeperception.backends import base
    from services.codeperception.backends.reference import ReferenceBackend
    from services.codeperception.convert import set_origin
    from services.codeperception.dataset import Sample
    from services.codeperception.protos import codeperception_pb2 as pb

    origins = {value for name, value in vars(base).items() if name.startswith("ORIGIN_")}
    assert {f"CANDIDATE_ORIGIN_{o.upper()}" for o in origins} == set(pb.CandidateOrigin.keys()) - {
        "CANDIDATE_ORIGIN_UNSPECIFIED"}
    written = pb.Candidate()
    set_origin(written, base.Generation(text="x"))  # a generation backend states nothing: a model wrote it
    assert written.origin == pb.CANDIDATE_ORIGIN_MODEL and not written.HasField("neighbour")
    reference = ReferenceBackend(CodePerceptionSettings.from_env())
    generation = asyncio.run(reference.generate(Sample(0, tmp_path / "x.png", "print(1)\n"), GenerationOptions(), 1))
    set_origin(truth := pb.Candidate(), generation)
    assert truth.origin == pb.CANDIDATE_ORIGIN_REFERENCE
    retrieved = pb.Candidate()
    set_origin(retrieved, base.Generation(text="x", origin=ORIGIN_RETRIEVAL,
                                          neighbour=base.Neighbour(family="f", seed=2**64 - 1, rank=2, distance=0.5)))
    assert retrieved.origin == pb.CANDIDATE_ORIGIN_RETRIEVAL
    assert (retrieved.neighbour.family, retrieved.neighbour.seed, retrieved.neighbour.rank) == ("f", 2**64 - 1, 2)
