"""The `openai` backend through the harness, against the scripted OpenAI-compatible server of
the code-perception tests (a real HTTP server standing in for a GPU VLM, which cannot run
here): the generation protocol on the wire, NO_CODE scored once (no resampling), and a
backend that cannot be reached stopping the run with nothing recorded for it."""
import base64
import io
import json

import pytest
from PIL import Image

from services.evaluation.cli import main
from tests.integration.codeperception.fake_vlm import Answer, FakeVLM, python_block
from tests.sandbox.harness import free_port

from .conftest import read_json, records_of, run_args

DRAWING = "import matplotlib.pyplot as plt\nplt.plot([0, 1, 2], [2, 0, 1], color='green')\nplt.show()\n"


@pytest.fixture
def vlm():
    with FakeVLM() as server:
        yield server


def small(split40, tmp_path, count=5):
    lines = split40.data.read_text().splitlines()[:count]
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(lines) + "\n")

    class Split:
        pass
    Split.data, Split.images, Split.count = data, split40.images, count
    return Split


def test_no_code_answers_are_scored_once_as_failures(eval_sandbox, split40, vlm, tmp_path):
    vlm.script(default=Answer("I can see a plot, but I will not write code."))
    split = small(split40, tmp_path)
    lines = split.data.read_text().splitlines()
    missing, corrupt = json.loads(lines[0]), json.loads(lines[1])
    missing["messages"][1]["content"][0]["image"] = "not-there.png"
    corrupt["messages"][1]["content"][0]["image"] = "corrupt.png"
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for name in {json.loads(line)["messages"][1]["content"][0]["image"] for line in lines}:
        (tmp_path / "images" / name).symlink_to(split40.images / name)
    split.images = tmp_path / "images"
    split.data.write_text("\n".join([*lines, json.dumps(missing), json.dumps(corrupt)]) + "\n")
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "openai", "--base-url", vlm.base_url,
                         "--model", "scripted", "--no-report")) == 0
    summary = read_json(out / "summary.json")
    assert summary["counts"]["by_status"] == {"INVALID_INPUT": 2, "NO_CODE": 5} and summary["exec_rate"] == 0.0
    assert summary["deterministic"]["aggregate_mean"] == 0.0
    assert len(vlm.received) == 5  # one request per sample: no resampling passes; bad images are not sent
    details = {r["image"]: r["detail"] for r in records_of(out) if r["status"] == "INVALID_INPUT"}
    assert "No such file" in details["not-there.png"] and "cannot be read" in details["corrupt.png"]


def test_the_generation_protocol_on_the_wire(eval_sandbox, split40, vlm, tmp_path):
    vlm.script(default=Answer(python_block(DRAWING)))
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Redraw this figure with matplotlib.\n")
    split = small(split40, tmp_path)
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "openai", "--base-url", vlm.base_url,
                         "--model", "scripted", "--prompt-file", str(prompt), "--temperature", "0.1",
                         "--top-k", "5", "--seed", "7", "--no-report", "--no-trace-metrics")) == 0
    body = vlm.received[0].body
    assert (body["model"], body["temperature"], body["top_p"], body["top_k"], body["seed"]) == \
        ("scripted", 0.1, 0.8, 5, 7)
    assert (body["repetition_penalty"], body["presence_penalty"], body["max_tokens"]) == (1.0, 1.5, 16384)
    text, image = body["messages"][-1]["content"]
    assert text == {"type": "text", "text": "Redraw this figure with matplotlib."}
    header, encoded = image["image_url"]["url"].split(",", 1)
    assert header == "data:image/jpeg;base64" and Image.open(io.BytesIO(base64.b64decode(encoded))).format == "JPEG"
    records = records_of(out)
    assert {record["status"] for record in records} == {"OK"} and read_json(out / "summary.json")["exec_rate"] == 100
    assert all(0 < record["fidelity"]["aggregate"] < 0.9 for record in records)  # another picture: scored low


def test_an_unreachable_backend_stops_the_run_and_records_nothing(eval_sandbox, split40, tmp_path, capsys):
    split = small(split40, tmp_path)
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "openai", "--model", "scripted",
                         "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--no-report")) == 1
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "run the same command again to resume" in err
    assert records_of(out) == []


@pytest.mark.parametrize("flags, message", [
    (("--shard", "3/3"), "shard index must be in 0..2"),
    (("--temperature", "5"), "--temperature must be in [0, 2]"),
    (("--backend", "openai"), "the openai backend cannot serve"),
])
def test_bad_invocations_are_refused_with_a_message(eval_sandbox, split40, tmp_path, capsys, monkeypatch,
                                                    flags, message):
    monkeypatch.delenv("PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL", raising=False)
    assert main(run_args(eval_sandbox, split40, tmp_path / "out", *flags)) == 2
    assert message in capsys.readouterr().err


def test_a_malformed_split_is_refused(eval_sandbox, split40, tmp_path, capsys):
    split = small(split40, tmp_path)
    with open(split.data, "a") as handle:
        handle.write('{"messages": []}\n')
    assert main(run_args(eval_sandbox, split, tmp_path / "out")) == 2
    assert "not a STEM2Code record" in capsys.readouterr().err
