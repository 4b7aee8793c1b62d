"""The optional LLM judges, against a small real HTTP server started by the test that answers
OpenAI-style chat completions with scripted judge replies (it stands in for a closed hosted
judge model, which cannot run here). The run also renders the ground truth (trace metrics)
and holds a program that fails, to show how a failed sample is scored."""
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from services.evaluation.cli import main

from .conftest import read_json, records_of, run_args

SAMPLES = 6
KEY = "judge-secret"


class ScriptedJudge:
    """Replies in order from `script` (then `default`); records every request body."""

    def __init__(self, script: list, default):
        self.script, self.default, self.requests = list(script), default, []
        self.lock = threading.Lock()
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with judge.lock:
                    judge.requests.append((self.path, self.headers.get("Authorization"), body))
                    reply = judge.script.pop(0) if judge.script else judge.default
                status, text = reply(body) if callable(reply) else reply
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def by_kind(body):
    content = body["messages"][0]["content"]
    if isinstance(content, list):  # the image judge gets both images
        return 200, "Both figures agree on every element.\n\n**Score:** 80/100"
    return 200, "The programs draw the same picture. __Score__: 70 / 100"


@pytest.fixture(scope="module")
def small_split(split40, tmp_path_factory):
    """The first samples of the 40-sample split, plus one whose program raises."""
    root = tmp_path_factory.mktemp("judged")
    shutil.copytree(split40.images, root / "images")
    lines = split40.data.read_text().splitlines()[:SAMPLES]
    broken = json.loads(lines[0])
    broken["messages"][1]["content"][0]["image"] = "broken.png"
    broken["messages"][3]["content"][0]["text"] = "```python\nraise ValueError('boom')\n```"
    Image.new("RGB", (64, 48), (12, 34, 56)).save(root / "images" / "broken.png")
    (root / "data.jsonl").write_text("\n".join([*lines, json.dumps(broken)]) + "\n")

    class Split:
        data, images, count = root / "data.jsonl", root / "images", SAMPLES + 1
    return Split


def test_judged_run_scores_by_protocol_with_bounded_retries(eval_sandbox, small_split, tmp_path, monkeypatch):
    judge = ScriptedJudge([(500, "overloaded"), (200, "I would rather not say.")], by_kind)
    monkeypatch.setenv("PERCEPT_EVAL_JUDGE_API_KEY", KEY)
    try:
        out = tmp_path / "out"
        assert main(run_args(eval_sandbox, small_split, out, "--no-report", "--generation-concurrency", "1",
                             "--judge-url", judge.url, "--judge-model", "scripted-judge")) == 0
    finally:
        judge.close()
    summary = read_json(out / "summary.json")
    assert summary["counts"]["by_status"] == {"EXEC_ERROR": 1, "OK": SAMPLES}
    assert summary["exec_rate"] == pytest.approx(100 * SAMPLES / (SAMPLES + 1), abs=1e-3)
    # the failed sample: image 0 without asking the judge, code still judged (upstream's rule)
    assert summary["judge"]["image"] == {"mean": pytest.approx(80 * SAMPLES / (SAMPLES + 1), abs=1e-4),
                                         "judged": SAMPLES + 1, "unjudged": 0}
    assert summary["judge"]["code"] == {"mean": 70.0, "judged": SAMPLES + 1, "unjudged": 0}
    image, code, rate = summary["judge"]["image"]["mean"], 70.0, summary["exec_rate"]
    assert summary["finals"]["three_way"] == {"label": "(image + code + exec) / 3", "source":
                                              "LLM judge scripted-judge",
                                              "value": pytest.approx((image + code + rate) / 3, abs=1e-3)}
    assert summary["finals"]["two_way"]["value"] == pytest.approx((image + code) / 2, abs=1e-3)
    # 6 image + 7 code verdicts, two of them on a second and third try
    assert len(judge.requests) == SAMPLES + (SAMPLES + 1) + 2
    assert sorted(r["judge"]["image"]["attempts"] for r in records_of(out))[-1] <= 3
    assert all(path == "/v1/chat/completions" and auth == f"Bearer {KEY}" and body["temperature"] == 0
               for path, auth, body in judge.requests)
    image_request = next(body for _, _, body in judge.requests if isinstance(body["messages"][0]["content"], list))
    urls = [part["image_url"]["url"] for part in image_request["messages"][0]["content"] if "image_url" in part]
    assert len(urls) == 2 and all(url.startswith("data:image/jpeg;base64,") for url in urls)
    # deterministic metrics are there too, with the trace metrics (the ground truth was rendered)
    ok = [r for r in records_of(out) if r["status"] == "OK"]
    assert all(r["fidelity"]["mode"] == "image_and_trace" and r["fidelity"]["aggregate"] >= 0.99 for r in ok)
    finals = summary["deterministic"]["finals"]  # the judge-free analogue, labelled as such
    assert finals["three_way"]["label"] == "(image + code + exec) / 3" and "judge-free" in finals["two_way"]["source"]
    failed = next(r for r in records_of(out) if r["status"] == "EXEC_ERROR")
    assert "ValueError" in failed["detail"] and failed["fidelity"]["aggregate"] == 0.0
    assert KEY not in (out / "manifest.json").read_text() + (out / "records.jsonl").read_text()


def test_a_judge_that_never_scores_leaves_the_samples_unjudged(eval_sandbox, small_split, tmp_path, monkeypatch):
    judge = ScriptedJudge([], (200, "no verdict"))
    monkeypatch.setenv("PERCEPT_EVAL_JUDGE_ATTEMPTS", "2")
    monkeypatch.setattr("services.evaluation.judge.Judge.RETRY_BASE_S", 0.0)
    try:
        out = tmp_path / "out"
        assert main(run_args(eval_sandbox, small_split, out, "--no-report", "--no-trace-metrics",
                             "--judge-url", judge.url, "--judge-model", "mute", "--judge-scores", "code")) == 0
    finally:
        judge.close()
    summary = read_json(out / "summary.json")
    assert summary["judge"] == {"model": "mute", "code": {"mean": None, "judged": 0, "unjudged": SAMPLES + 1}}
    assert summary["finals"] == {}  # no final without both scores
    assert len(judge.requests) == 2 * (SAMPLES + 1)  # bounded: two calls per sample, no more
    assert all(r["judge"]["code"] == {"score": None, "attempts": 2, "detail": "the reply holds no score"}
               for r in records_of(out))
