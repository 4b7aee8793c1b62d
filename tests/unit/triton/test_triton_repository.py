"""The generic repository builder (services.triton.repository): model families hand it
entries, it writes them beside each other, atomically, with one manifest.

The families here are synthetic (a placeholder model of each); TokenFD's own entries are
tests/unit/tokenfd/test_tokenfd_repository.py."""
import json

import pytest
from tritonclient.grpc import model_config_pb2 as mc

from services.triton.repository import MANIFEST, FamilyEntries, ModelEntry, Target, build_repository, parse, tensor


def _entry(name: str, files=None) -> ModelEntry:
    config = mc.ModelConfig(name=name, backend="python", max_batch_size=0)
    config.input.append(tensor(mc.ModelInput, "IN", mc.TYPE_FP32, [1]))
    config.output.append(tensor(mc.ModelOutput, "OUT", mc.TYPE_FP32, [1]))
    return ModelEntry(config, files or {"1/model.py": b"# placeholder\n"})


def _family(family: str, *names: str, **manifest) -> FamilyEntries:
    return FamilyEntries(family, tuple(_entry(name) for name in names), manifest)


def test_two_families_share_one_repository(tmp_path):
    """A second family (TokenVL, say) adds its models beside the first's."""
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"big artifact")
    first = FamilyEntries("first", (_entry("first_a", {"1/model.py": b"a\n", "1/weights.bin": weights}),),
                          {"dim": 8})
    out = build_repository(tmp_path / "repo", Target.CPU, [first, _family("second", "second_a", "second_b")])
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "first_a", "second_a", "second_b"]
    for name in ("first_a", "second_a", "second_b"):
        assert parse((out / name / "config.pbtxt").read_text()).name == name
    assert (out / "first_a" / "1" / "model.py").read_bytes() == b"a\n"
    linked = out / "first_a" / "1" / "weights.bin"
    assert linked.read_bytes() == b"big artifact" and linked.stat().st_ino == weights.stat().st_ino  # hard link
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest == {"target": "cpu", "models": ["first_a", "second_a", "second_b"],
                        "families": {"first": {"dim": 8}, "second": {}}}


def test_rebuild_replaces_a_built_repository_but_never_a_foreign_directory(tmp_path):
    out = tmp_path / "repo"
    build_repository(out, "cpu", [_family("f", "model_a")])
    (out / "stale_model").mkdir()
    build_repository(out, "gpu", [_family("f", "model_b")])
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "model_b"]
    assert json.loads((out / MANIFEST).read_text())["target"] == "gpu"

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_repository(foreign, "cpu", [_family("f", "model_a")])
    assert (foreign / "keep.txt").read_text() == "mine"


def test_a_failed_build_leaves_the_old_repository_and_no_staging(tmp_path):
    out = tmp_path / "repo"
    build_repository(out, "cpu", [_family("f", "model_a")])
    broken = FamilyEntries("f", (_entry("model_b", {"1/weights.bin": tmp_path / "missing.bin"}),))
    with pytest.raises(FileNotFoundError):
        build_repository(out, "cpu", [broken])
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "model_a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


@pytest.mark.parametrize("families, message", [
    ([_family("one", "same"), _family("two", "same")], "same"),
    ([_family("empty")], "no models"),
    ([FamilyEntries("f", (_entry("m", {"../escape.py": b""}),))], "outside"),
])
def test_inconsistent_entries_are_refused(tmp_path, families, message):
    with pytest.raises(ValueError, match=message):
        build_repository(tmp_path / "repo", "cpu", families)
    assert not (tmp_path / "repo").exists() and not (tmp_path / "escape.py").exists()
