"""`make eval-locate` (services/evaluation/locate): the PDF pages' ground truth, the query sampling, both
locators' boxes, the report's block, and the whole run end to end on a few pages with the random tiny
fixture and the real Tesseract (its figures for TokenFD are noise: the run checks plumbing)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from services.evaluation.locate import cli, locators, pdfpages, report
from services.evaluation.locate.queries import MULTI, SINGLE, Page, sample

needs_tesseract = pytest.mark.skipif(locators.tesseract_binary() is None,
                                     reason="tesseract is not installed (make tesseract installs Debian's "
                                            "tesseract-ocr where apt-get runs as root)")


# --- the text-layer PDF pages ----------------------------------------------------------------------
def test_pdf_pages_are_seeded_and_their_word_boxes_cover_the_ink():
    pdf, fonts = pdfpages.typeset(seed=3, index=1)
    assert pdfpages.typeset(seed=3, index=1) == (pdf, fonts)          # a pure function of (seed, index)
    assert pdfpages.typeset(seed=3, index=2)[0] != pdf
    image, words = pdfpages.read_page(pdf)
    assert image.size == pytest.approx((pdfpages.PAGE_SIZE[0] * 110 / 72, pdfpages.PAGE_SIZE[1] * 110 / 72), abs=1)
    assert len(words) > 150 and fonts
    ink = np.asarray(image.convert("L")) < 128
    inside = np.zeros_like(ink)
    for word in words:
        x0, y0, x1, y1 = word["box"]
        assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
        inside[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = True
    # the boxes are where the text is drawn (a flipped or shifted text layer would miss most of it)
    assert ink[inside].mean() > 0.15
    assert ink[~inside].sum() < 0.05 * ink.sum()


# --- queries --------------------------------------------------------------------------------------
def _page(words) -> Page:
    return Page("synthetic", "p", Path("p.png"), 400, 200, None, tuple((t, tuple(map(float, b))) for t, b in words))


def test_queries_are_seeded_unique_on_the_page_and_on_one_line():
    page = _page([("Total", (10, 10, 60, 30)), ("amount", (70, 10, 140, 30)), ("due", (150, 10, 190, 30)),
                  ("Total", (10, 50, 60, 70)), ("a", (70, 50, 80, 70)), ("paid", (10, 90, 60, 110)),
                  ("today", (10, 130, 70, 150))])
    first = sample([page], seed=5, single_per_page=10, multi_per_page=10)
    assert first == sample([page], seed=5, single_per_page=10, multi_per_page=10)
    singles = {q.text: q for q in first if q.kind == SINGLE}
    # "Total" occurs twice, "a" has one letter: neither is asked
    assert set(singles) == {"amount", "due", "paid", "today"}
    assert singles["due"].box == (150, 10, 190, 30)
    phrases = {q.text: q for q in first if q.kind == MULTI}
    # "paid today" is two lines, "due Total" too: only runs along one line are asked
    assert set(phrases) == {"Total amount", "amount due", "Total amount due", "Total a"}
    assert phrases["Total amount due"].box == (10, 10, 190, 30) and phrases["Total amount due"].words == 3


# --- the OCR peer's word search ---------------------------------------------------------------------
TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"


def _tsv(rows) -> str:
    lines = ["1\t1\t0\t0\t0\t0\t0\t0\t500\t300\t-1\t"]
    for block, line, word, left, top, conf, text in rows:
        lines.append(f"5\t1\t{block}\t1\t{line}\t{word}\t{left}\t{top}\t40\t12\t{conf}\t{text}")
    return TSV_HEADER + "\n".join(lines) + "\n"


def test_the_ocr_peer_finds_exact_words_and_consecutive_runs_of_one_line():
    words = locators.parse_tsv(_tsv([(1, 1, 1, 10, 10, 90, "Total"), (1, 1, 2, 60, 10, 80, "amount"),
                                      (1, 2, 1, 10, 30, 95, "due"), (1, 2, 2, 60, 30, 50, "total"),
                                      (2, 1, 1, 10, 200, 99, "Total"), (2, 1, 2, 60, 200, 99, "amount")]))
    assert len(words) == 6 and words[0].box == (10, 10, 50, 22)
    assert locators.find(words, "due") == ((10, 30, 50, 42), 95.0)
    assert locators.find(words, "Due") is None                       # case-sensitive
    assert locators.find(words, "amount due") is None                # not across a line break
    box, confidence = locators.find(words, "Total amount")           # the more confident of two
    assert box == (10, 200, 100, 212) and confidence == 99.0


# --- TokenFD's answer in image pixels ------------------------------------------------------------------
def test_tokenfd_answer_is_where_the_maps_light_up(tmp_path):
    """A stand-in encoder lights a place of the right-hand tile, token after token along a line: the
    answer is that place in the image's pixels (a transposed box, a lost tile offset or a wrong cell
    size would move it). The rest of the path is the real pipeline and the gateway's decoder."""
    from services.common import limits
    from services.models.tokenfd.fixtures import train_fixture_tokenizer
    from services.models.tokenfd.preprocess import choose_grid
    from services.models.tokenfd.tokenizer import QueryTokenizer
    from services.models.tokenfd.triton.locate import LocatePipeline

    width, height = 896, 400     # cells of the stitched grid: 896 / 256 by 400 / 128 pixels
    assert choose_grid(width, height) == (2, 1)      # two tiles side by side, then the thumbnail
    Image.new("RGB", (width, height), "white").save(tmp_path / "page.png")
    page = Page("synthetic", "page", tmp_path / "page.png", width, height, None, ())
    tokenizer = QueryTokenizer.from_bytes(train_fixture_tokenizer())
    embeddings = np.random.default_rng(0).standard_normal((tokenizer.vocab_size, 8)).astype(np.float32)
    pipeline = LocatePipeline(tokenizer, embeddings, input_limits={
        limits.MAX_QUERY_CHARS.name: 512, limits.MAX_QUERY_TOKENS.name: 64, limits.MAX_IMAGE_PIXELS.name: 10**8})

    def encode(pixels, queries):
        maps = np.full((pixels.shape[0], queries.shape[1], 128, 128), -0.5, dtype=np.float32)
        for token in range(queries.shape[1]):
            maps[1, token, 40:50, 20 + 10 * token:30 + 10 * token] = 0.9      # tile 1: the right half
        return maps

    query = "invoice total"
    tokens = len(tokenizer.encode_query(query)[0])
    answer = locators.TokenFDLocator(pipeline, encode, threshold=0.5).locate(page, query)
    cw, ch = width / 256, height / 128
    assert answer.box == pytest.approx((448 + 20 * cw, 40 * ch, 448 + (20 + 10 * tokens) * cw, 50 * ch))
    assert answer.score == pytest.approx(0.9) and answer.seconds > 0
    assert locators.TokenFDLocator(pipeline, encode, threshold=0.95).locate(page, query).box is None


def test_the_default_checkpoint_is_the_served_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.default_checkpoint() == cli.TINY_CHECKPOINT
    (tmp_path / cli.PUBLISHED_DIR).mkdir(parents=True)
    assert cli.default_checkpoint() == cli.TINY_CHECKPOINT       # an empty directory holds no checkpoint
    (tmp_path / cli.PUBLISHED_DIR / "config.json").write_text("{}")
    assert cli.default_checkpoint() == cli.PUBLISHED_DIR


# --- the report ------------------------------------------------------------------------------------
def test_the_report_block_is_appended_once_then_replaced_in_place(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    report.write_section(doc, "## Text location\n\nfirst")
    report.write_section(doc, "## Text location\n\nsecond")
    text = doc.read_text()
    assert text.count(report.START) == 1 and text.count(report.END) == 1
    assert "second" in text and "first" not in text and "## Other\n\nkept" in text
    doc.write_text(text + "\n## After\n")
    report.write_section(doc, "third")
    assert doc.read_text().endswith("third\n" + report.END + "\n\n## After\n")


# --- end to end ---------------------------------------------------------------------------------------
@needs_tesseract
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_eval_locate_runs_end_to_end_and_writes_the_report(tmp_path):
    from services.datasets.tokenit import cli as tokenit
    from services.evaluation.shards import Shard
    from services.models.tokenfd.family import TINY_NAME
    from services.models.tokenfd.fixtures import build_tiny_checkpoint

    synthetic = tmp_path / "heldout"
    tokenit.generate(synthetic, count=2, seed=1, shard=Shard.whole(), tokenizer_path=synthetic / "tokenizer.model",
                     pdf_share=0.5, progress=False)
    checkpoint = build_tiny_checkpoint(tmp_path / TINY_NAME, seed=0)
    doc, plot, out = tmp_path / "docs" / "benchmarks.md", tmp_path / "docs" / "img" / "eval.png", tmp_path / "run"
    doc.parent.mkdir()
    doc.write_text("# Benchmarks\n")
    status = cli.main(["run", "--checkpoint", str(checkpoint), "--synthetic", str(synthetic),
                       "--pdf", str(tmp_path / "pdf"), "--pdf-count", "2", "--single-per-page", "2",
                       "--multi-per-page", "1", "--repeats", "1", "--latency-queries", "2", "--out", str(out),
                       "--write-docs", "--doc", str(doc), "--plot", str(plot), "--no-progress"])
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plumbing_only"] is True
    assert summary["datasets"] == {"synthetic": {"pages": 2, "source": "heldout"}, "pdf": {"pages": 2, "source": "pdf"}}
    rows = {(r["dataset"], r["kind"], r["locator"]): r for r in summary["metrics"] if r["tokens"] == "all"}
    assert rows[("pdf", SINGLE, "Tesseract")]["queries"] == 4
    assert rows[("pdf", MULTI, "Tesseract")]["queries"] == 2
    # on clean typeset pages the OCR peer finds the words, where the text layer says they are
    assert rows[("pdf", SINGLE, "Tesseract")]["hit"] > 0
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == sum(r["queries"] for (_, _, name), r in rows.items() if name == "TokenFD")
    assert all(set(a["answers"]) == {"TokenFD", "Tesseract"} for a in answers)
    assert {r["locator"] for r in summary["latency"]} == {"TokenFD", "Tesseract"}
    assert all(r["median_s"] > 0 for r in summary["latency"])
    text = doc.read_text()
    assert text.count(report.START) == 1 and "Fixture, plumbing only" in text and "(img/eval.png)" in text
    assert Image.open(plot).format == "PNG"
    plot.unlink()
    # the report again from the summary alone: the same block, in place
    assert cli.main(["report", "--summary", str(out / "summary.json"), "--write-docs", "--doc", str(doc),
                     "--plot", str(plot)]) == 0
    assert doc.read_text() == text and Image.open(plot).format == "PNG"


@pytest.mark.parametrize(("argument", "error"), [(["--limit", "0"], "--limit: must be 1 or more"),
                                                 (["--single-per-page", "-1"], "--single-per-page: must be 0 or more"),
                                                 (["--threads", "two"], "--threads: invalid positive_int value")])
def test_bad_counts_are_refused_as_a_bad_invocation(argument, error, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", *argument])
    assert exited.value.code == 2
    assert error in capsys.readouterr().err


def test_a_missing_checkpoint_is_refused_naming_the_program(tmp_path, capsys):
    assert cli.main(["run", "--checkpoint", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith(f"{cli.PROGRAM}: ")


def test_the_report_names_each_part_of_the_recorded_ink_reading():
    ink = {"peak_share": 0.6, "rank": "mass", "boxes": "ink", "aspect": -0.6, "length_weight": 0.03,
           "span_mean": 0.5, "letters": 0.0, "likeness": 0.5}
    compared = report._decoding({"decoding": ink})
    assert "0.5 x the box's likeness to the query drawn in print" in compared and "letters" not in compared
    spelled = report._decoding({"decoding": {**ink, "letters": 1.0, "likeness": 0.0}})
    assert "1 x the reading of a one-word query's letters' maps" in spelled and "likeness" not in spelled
