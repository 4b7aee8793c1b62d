"""`make models`: build every registered model family (services/models/registry.py) and one Triton
model repository serving them all. Today: TokenFD and TokenVL, plus PERCEPT_MODEL_FAMILIES' families.

    <out>/checkpoints/<family>-tiny    each family's tiny seeded checkpoint (plumbing only, not a real model)
    <out>/export/<checkpoint name>     each family's export (TokenFD: encoder.onnx, encoder.cpu.onnx,
                                       tok_embeddings.npy, tokenizer.model, tokenfd.json; TokenVL:
                                       vision.onnx, decoder/, embed_tokens.npy, tokenizer.json, tokenvl.json)
    <out>/model_repository             what the launcher serves (every family's Triton models)

`--family-checkpoint NAME=DIR` builds family NAME from a checkpoint in a local directory (its
upstream layout) instead of its tiny one; `--checkpoint DIR` (TokenFD) and `--tokenvl-checkpoint DIR`
say the same. `--skip-family NAME` leaves a family out (`--no-tokenvl` = `--skip-family tokenvl`).
`--target gpu` builds the TensorRT targets (on a GPU machine).

    python -m services.models.build_default --out artifacts
    python -m services.models.build_default --out artifacts --checkpoint ~/TokenFD_2048_Bilingual_seg
    python -m services.models.build_default --out artifacts --family-checkpoint tokenvl=~/TokenVL-2B
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

from services.models import registry
from services.models.family import BuildRequest, BuiltFamily, ModelFamily
from services.models.tokenfd.family import TINY_NAME  # noqa: F401 - the name its tests and docs know it by
from services.triton import repository as core
from services.triton.repository import Target


@dataclass(frozen=True)
class BuiltDefault:
    """The repository and what each family's build left (`families[name]`); the TokenFD and
    TokenVL fields are the earlier shape of this result, kept for its users."""
    repository: Path
    families: Mapping[str, BuiltFamily] = field(default_factory=dict)

    def _get(self, name: str, attribute: str) -> Path | None:
        built = self.families.get(name)
        return getattr(built, attribute) if built is not None else None

    @property
    def checkpoint(self) -> Path | None:
        return self._get("tokenfd", "checkpoint")

    @property
    def export(self) -> Path | None:
        return self._get("tokenfd", "export")

    @property
    def tokenvl_checkpoint(self) -> Path | None:
        return self._get("tokenvl", "checkpoint")

    @property
    def tokenvl_export(self) -> Path | None:
        return self._get("tokenvl", "export")


def _require_gpu(target: Target) -> None:
    if target is not Target.GPU:
        return
    from services.models.tokenfd.export_tensorrt import TensorRTUnavailable, gpu_present

    if not gpu_present():  # fail before the (slow) exports, not after them
        raise TensorRTUnavailable("the gpu target builds TensorRT plans, which need an NVIDIA GPU; "
                                  "none found (build the cpu target, or run this on a GPU machine)")


def _checked_names(names: Collection[str], known: Collection[str], what: str) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"{what} names no registered model family: {', '.join(unknown)} "
                         f"(registered: {', '.join(known)})")


def build_families(out: str | Path, *, target: Target | str = Target.CPU,
                   checkpoints: Mapping[str, str | Path] | None = None, options: Mapping[str, Any] | None = None,
                   skip: Collection[str] = (), only: Collection[str] | None = None,
                   log: Callable[..., None] = print) -> BuiltDefault:
    """Build each registered family (bar `skip`; only those in `only` when given) from its checkpoint in
    `checkpoints` (default: its tiny seeded one) with its `options`, then one repository of all their models."""
    out, target = Path(out), Target(target)
    checkpoints, options = dict(checkpoints or {}), dict(options or {})
    families: list[ModelFamily] = list(registry.families())
    known = [f.name for f in families]
    _checked_names(checkpoints, known, "a checkpoint")
    _checked_names(options, known, "an option")
    _checked_names(skip, known, "--skip-family")
    if only is not None:
        _checked_names(only, known, "a family to build")
        skip = {*skip, *(name for name in known if name not in only)}
    for name, directory in checkpoints.items():  # every input checked before anything is built
        checkpoints[name] = Path(directory).expanduser()
        if not checkpoints[name].is_dir():
            raise FileNotFoundError(f"checkpoint directory {checkpoints[name]} of {name} does not exist")
    _require_gpu(target)
    built: dict[str, BuiltFamily] = {}
    for family in families:
        if family.name in skip:
            continue
        built[family.name] = family.build(BuildRequest(out=out, target=target, checkpoint=checkpoints.get(family.name),
                                                       options=options.get(family.name), log=log))
    if not built:
        raise ValueError("every model family is skipped: nothing to build")
    repository = core.build_repository(out / "model_repository", target, [b.entries for b in built.values()])
    log(f"model repository ({target.value}): {repository}")
    return BuiltDefault(repository=repository, families=built)


def build_default(out: str | Path, *, checkpoint: str | Path | None = None, target: Target | str = Target.CPU,
                  options=None, tokenvl_checkpoint: str | Path | None = None, tokenvl: bool = True,
                  tokenvl_precision: str = "fp32", log=print) -> BuiltDefault:
    """build_families with the earlier, TokenFD-and-TokenVL keywords (`options`: TokenFD's
    RepositoryOptions)."""
    checkpoints = {name: path for name, path in (("tokenfd", checkpoint), ("tokenvl", tokenvl_checkpoint))
                   if path is not None}
    return build_families(out, target=target, checkpoints=checkpoints, log=log,
                          options={"tokenfd": options, "tokenvl": tokenvl_precision},
                          skip=() if tokenvl else ("tokenvl",))


def _family_checkpoint(value: str) -> tuple[str, Path]:
    name, equals, directory = value.partition("=")
    if not equals or not name or not directory:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {value!r}")
    return name, Path(directory)


def parser_for(families: tuple[ModelFamily, ...]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.models.build_default", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("artifacts"))
    parser.add_argument("--target", choices=[t.value for t in Target], default=Target.CPU.value)
    parser.add_argument("--family-checkpoint", type=_family_checkpoint, action="append", default=[],
                        metavar="NAME=DIR", help="family NAME's checkpoint directory, upstream layout "
                        "(default: build its tiny seeded one); repeat for several families")
    parser.add_argument("--skip-family", action="append", default=[], metavar="NAME",
                        help=f"leave family NAME out (registered: {', '.join(f.name for f in families)})")
    parser.add_argument("--no-tokenvl", action="append_const", dest="skip_family", const="tokenvl",
                        help="build without TokenVL (= --skip-family tokenvl)")
    for family in families:
        if family.checkpoint_flag:
            parser.add_argument(family.checkpoint_flag, type=Path, default=None, dest=f"checkpoint_of_{family.name}",
                                metavar="DIR", help=f"= --family-checkpoint {family.name}=DIR")
        family.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from services.models.tokenfd.export_tensorrt import TensorRTUnavailable

    try:
        families = registry.families()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args = parser_for(families).parse_args(argv)
    checkpoints = dict(args.family_checkpoint)
    for family in families:
        alias = getattr(args, f"checkpoint_of_{family.name}", None)
        if alias is not None:
            checkpoints.setdefault(family.name, alias)
    try:
        build_families(args.out, target=args.target, checkpoints=checkpoints, skip=args.skip_family,
                       options={family.name: family.parse_options(args) for family in families})
    except (FileNotFoundError, FileExistsError, ValueError, TensorRTUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
