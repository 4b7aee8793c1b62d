"""STEM2Code-format records and the lookup by pixel content."""
import io
import json

from PIL import Image

from services.codeperception.dataset import DatasetIndex, read_samples, record


def _write(tmp_path, images):
    (tmp_path / "images").mkdir()
    lines = []
    for name, color, code in images:
        Image.new("RGB", (40, 30), color).save(tmp_path / "images" / name)
        lines.append(json.dumps(record(name, code, "draw it")))
    (tmp_path / "data.jsonl").write_text("\n".join(lines) + "\n")


def test_records_read_back_with_bare_or_fenced_code(tmp_path):
    _write(tmp_path, [("a.png", "red", "x = 1\n"), ("b.png", "blue", "```python\ny = 2\n```")])
    samples = read_samples(tmp_path / "data.jsonl", tmp_path / "images")
    assert [(s.index, s.image_path.name, s.code) for s in samples] == [(0, "a.png", "x = 1\n"), (1, "b.png", "y = 2\n")]


def test_an_image_is_found_by_its_pixels_not_its_file_bytes(tmp_path):
    _write(tmp_path, [("a.png", "red", "x = 1\n"), ("b.png", "blue", "y = 2\n")])
    index = DatasetIndex.load(tmp_path)
    reencoded = io.BytesIO()
    Image.open(tmp_path / "images" / "b.png").save(reencoded, format="BMP")
    assert index.find(Image.open(io.BytesIO(reencoded.getvalue()))).code == "y = 2\n"
    assert index.find(Image.new("RGB", (40, 30), "green")) is None
