"""A retrieval index of data-engine programs: per program, a compact descriptor of its rendered image and
its code; for an input image, the programs whose images look most alike.

The descriptor of an image (RGB, transparency already over white):
- its grey pixels area-averaged (Pillow's BOX filter, every source pixel counts) down to
  THUMBNAIL_SIDE x THUMBNAIL_SIDE, stored as ink (255 minus grey, so the white page is 0) in uint8;
- its aspect ratio (width / height), stored as float32.
Compared as one vector of two halves and an aspect term:
- the square root of the ink (it lifts thin lines and text, which a 32-pixel average leaves faint, towards
  the filled areas), and its edge map (each pixel's absolute differences to its right and lower neighbours,
  summed), which reads where strokes and borders are rather than how much ink lies around them;
- each half minus its mean and scaled to unit length, then by 1/sqrt(2), so the two together are a unit
  vector (the distance ignores brightness and contrast; a blank image is the zero vector);
- then ASPECT_WEIGHT * log(aspect).
The distance is Euclidean: 0 for the same thumbnail and aspect, at most 2 between thumbnails, plus the
aspect term (a 4:3 figure against a square one adds 0.5 * 0.29). The aspect counts because fidelity
compares a render at the input's geometry, where a wrong aspect shows as distortion. The edges move a
little with the dpi: a program rendered at 100 dpi lies within 0.45 of its entry rendered at 50, and nearest
to it (the integration test checks both). The two halves were chosen on the engine's tuning seed (2) and
checked on its evaluation seed (1): docs/codepercept-mini.md.

The file is a zip of deflated .npy arrays (np.load reads it, allow_pickle=False), written with fixed entry
dates so that the same programs give the same bytes:
    meta            uint8   the JSON of IndexMeta (format, descriptor, corpus it was built from)
    thumbnails      uint8   (N, S, S) ink
    aspects         float32 (N,)
    families        uint16  (N,) positions in meta.families
    seeds           uint64  (N,) the engine's sample seed: FAMILIES[family](random.Random(seed)) is the program
    corpus_indices  uint32  (N,) the sample's index in its corpus (meta.corpus_seed)
    code            uint8   the programs' UTF-8 text, concatenated
    code_offsets    int64   (N + 1,) program i is code[offsets[i]:offsets[i + 1]]
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

FORMAT = "percept.retrieval-index/1"
THUMBNAIL_SIDE = 32
ASPECT_WEIGHT = 0.5
# The nearest search's shortlist: entries whose squared distance by the fast, cancelling formula is within this
# of the k-th's (its float32 error is about 1e-6 on squared distances of at most about 5; 100 times that is safe).
SHORTLIST_MARGIN = 1e-4
VECTOR_CHUNK = 4096  # thumbnails turned into vectors at a time
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the zip format's epoch: no build time in the bytes
_ARRAYS = ("meta", "thumbnails", "aspects", "families", "seeds", "corpus_indices", "code", "code_offsets")


class IndexUnusable(ValueError):
    """The file is not a retrieval index this code can read (missing, damaged, another format)."""


@dataclass(frozen=True)
class Descriptor:
    thumbnail: np.ndarray  # uint8 (S, S), ink
    aspect: float


def describe(image: Image.Image) -> Descriptor:
    """The descriptor of an RGB image (transparency composited over white by the caller)."""
    width, height = image.size
    grey = image.convert("L").resize((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BOX)
    return Descriptor(thumbnail=255 - np.asarray(grey, dtype=np.uint8), aspect=width / height)


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row minus its mean, scaled to unit length; a constant row (a blank image) is the zero row."""
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 1e-6)


def vectors(thumbnails: np.ndarray, aspects: np.ndarray) -> np.ndarray:
    """(N, S*S + (S-1)*(S-1) + 1) float32 comparison vectors of N descriptors (see the module's docstring)."""
    side = thumbnails.shape[-1]
    out = np.empty((len(thumbnails), side * side + (side - 1) ** 2 + 1), dtype=np.float32)
    # In chunks: the float temporaries of the whole published index would be several times its vectors.
    for start in range(0, len(thumbnails), VECTOR_CHUNK):
        chunk = slice(start, start + VECTOR_CHUNK)
        ink = np.sqrt(thumbnails[chunk].astype(np.float32))
        count = len(ink)
        across = np.abs(np.diff(ink, axis=2))[:, :-1, :]   # both (n, S-1, S-1): cropped to the same grid
        down = np.abs(np.diff(ink, axis=1))[:, :, :-1]
        halves = [_unit_rows(part.reshape(count, -1)) for part in (ink, across + down)]
        out[chunk, :side * side] = halves[0]
        out[chunk, side * side:-1] = halves[1]
    out[:, :-1] /= np.sqrt(np.float32(2))
    out[:, -1] = ASPECT_WEIGHT * np.log(np.asarray(aspects, dtype=np.float32))
    return out


@dataclass(frozen=True)
class IndexMeta:
    """What an index holds and how it was built; the same meta and programs give the same file."""
    families: tuple[str, ...]  # the family names entries refer to by position
    corpus_seed: int           # the engine corpus the programs are samples of
    count: int                 # corpus samples 0..count-1
    dpi: int                   # resolution the programs were rendered at
    format: str = FORMAT
    thumbnail_side: int = THUMBNAIL_SIDE

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "IndexMeta":
        try:
            raw = json.loads(text)
            meta = cls(families=tuple(raw["families"]), corpus_seed=int(raw["corpus_seed"]), count=int(raw["count"]),
                       dpi=int(raw["dpi"]), format=str(raw["format"]), thumbnail_side=int(raw["thumbnail_side"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexUnusable(f"its metadata is unreadable ({exc})") from None
        if meta.format != FORMAT or meta.thumbnail_side != THUMBNAIL_SIDE:
            raise IndexUnusable(f"it is {meta.format} with {meta.thumbnail_side}-pixel thumbnails; this version "
                                f"reads {FORMAT} with {THUMBNAIL_SIDE}-pixel ones (rebuild it)")
        return meta


@dataclass(frozen=True)
class Entry:
    """One indexed program."""
    family: str
    seed: int
    corpus_index: int
    code: str
    descriptor: Descriptor


@dataclass(frozen=True)
class Match:
    """A neighbour of a query: its rank (0 = nearest), its distance and its entry."""
    rank: int
    distance: float
    family: str
    seed: int
    corpus_index: int
    code: str


class RetrievalIndex:
    def __init__(self, meta: IndexMeta, thumbnails: np.ndarray, aspects: np.ndarray, families: np.ndarray,
                 seeds: np.ndarray, corpus_indices: np.ndarray, code: np.ndarray, code_offsets: np.ndarray) -> None:
        count = len(thumbnails)
        side = meta.thumbnail_side
        if thumbnails.shape != (count, side, side) or thumbnails.dtype != np.uint8:
            raise IndexUnusable(f"thumbnails are {thumbnails.dtype} {thumbnails.shape}, not uint8 (N, {side}, {side})")
        for name, array in (("aspects", aspects), ("families", families), ("seeds", seeds),
                            ("corpus_indices", corpus_indices)):
            if array.shape != (count,):
                raise IndexUnusable(f"{name} has shape {array.shape}; {count} entries need ({count},)")
        if code_offsets.shape != (count + 1,) or code_offsets[0] != 0 or code_offsets[-1] != len(code) \
                or np.any(np.diff(code_offsets) < 0):
            raise IndexUnusable("code_offsets do not cut the code into one program per entry")
        if count and (int(families.max()) >= len(meta.families)):
            raise IndexUnusable("an entry names a family the metadata does not list")
        if count and not (np.all(np.isfinite(aspects)) and float(aspects.min()) > 0):
            raise IndexUnusable("an aspect ratio is not a positive number")
        self.meta = meta
        self.thumbnails, self.aspects = thumbnails, aspects.astype(np.float32)
        self.families, self.seeds, self.corpus_indices = families, seeds, corpus_indices
        self.code, self.code_offsets = code, code_offsets
        self._vectors = vectors(thumbnails, self.aspects)
        self._squared_norms = np.einsum("ij,ij->i", self._vectors, self._vectors)

    @property
    def size(self) -> int:
        return len(self.thumbnails)

    @classmethod
    def from_entries(cls, meta: IndexMeta, entries: list[Entry]) -> "RetrievalIndex":
        position = {name: i for i, name in enumerate(meta.families)}
        codes = [entry.code.encode() for entry in entries]
        side = meta.thumbnail_side
        return cls(
            meta,
            np.stack([e.descriptor.thumbnail for e in entries]) if entries else np.zeros((0, side, side), np.uint8),
            np.array([e.descriptor.aspect for e in entries], dtype=np.float32),
            np.array([position[e.family] for e in entries], dtype=np.uint16),
            np.array([e.seed for e in entries], dtype=np.uint64),
            np.array([e.corpus_index for e in entries], dtype=np.uint32),
            np.frombuffer(b"".join(codes), dtype=np.uint8).copy(),
            np.concatenate([[0], np.cumsum([len(c) for c in codes], dtype=np.int64)]).astype(np.int64))

    def first_samples(self, count: int) -> "RetrievalIndex":
        """The index of corpus samples 0 .. count-1 only: what a build with a smaller count would hold (the
        engine draws families round-robin, so the first N of each family when count is N x families)."""
        if count > self.meta.count:
            raise ValueError(f"the index holds corpus samples 0 .. {self.meta.count - 1}, not {count}")
        keep = np.flatnonzero(self.corpus_indices < count)
        offsets = self.code_offsets
        lengths = offsets[keep + 1] - offsets[keep]
        code = (np.concatenate([self.code[offsets[i]:offsets[i + 1]] for i in keep]) if len(keep)
                else self.code[:0])
        return RetrievalIndex(replace(self.meta, count=count), self.thumbnails[keep], self.aspects[keep],
                              self.families[keep], self.seeds[keep], self.corpus_indices[keep], code,
                              np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))

    def program(self, position: int) -> str:
        start, end = self.code_offsets[position], self.code_offsets[position + 1]
        return self.code[start:end].tobytes().decode()

    def nearest(self, image: Image.Image, k: int) -> list[Match]:
        """The k entries nearest to an RGB image (on white), nearest first; ties go to the earlier entry."""
        return self.nearest_to(describe(image), k)

    def nearest_to(self, descriptor: Descriptor, k: int) -> list[Match]:
        k = min(max(0, k), self.size)
        if k == 0:
            return []
        query = vectors(descriptor.thumbnail[None], np.array([descriptor.aspect], dtype=np.float32))[0]
        # Two passes. |a|^2 + |b|^2 - 2ab is one matrix-vector product over the whole index (no N x D
        # temporary), but it cancels in float32 and reads the same image as about 1e-3 away; so it only
        # shortlists every entry within SHORTLIST_MARGIN of the k-th, and the shortlist's distances are the
        # differences themselves.
        coarse = self._squared_norms + float(query @ query) - 2.0 * (self._vectors @ query)
        kth = np.partition(coarse, k - 1)[k - 1]
        shortlist = np.flatnonzero(coarse <= kth + SHORTLIST_MARGIN)      # ascending: ties keep index order
        difference = self._vectors[shortlist] - query
        distances = np.sqrt(np.einsum("ij,ij->i", difference, difference))
        order = np.argsort(distances, kind="stable")[:k]
        return [Match(rank=rank, distance=float(distances[j]), family=self.meta.families[self.families[i]],
                      seed=int(self.seeds[i]), corpus_index=int(self.corpus_indices[i]), code=self.program(i))
                for rank, (j, i) in enumerate((j, shortlist[j]) for j in order)]

    # --- the file ------------------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"meta": np.frombuffer(self.meta.to_json().encode(), dtype=np.uint8), "thumbnails": self.thumbnails,
                "aspects": self.aspects, "families": self.families, "seeds": self.seeds,
                "corpus_indices": self.corpus_indices, "code": self.code, "code_offsets": self.code_offsets}

    def save(self, path: Path) -> Path:
        """Write the index to `path` atomically (a temporary file beside it, then renamed)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, array in self._arrays().items():
                    buffer = io.BytesIO()
                    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
                    info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    archive.writestr(info, buffer.getvalue(), compresslevel=9)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would keep the file from a service run as another user
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: Path) -> "RetrievalIndex":
        """Raises FileNotFoundError for no file, IndexUnusable for a file that is not a usable index."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no retrieval index at {path}")
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in _ARRAYS if name in archive.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise IndexUnusable(f"it is not a retrieval index ({exc})") from None
        missing = [name for name in _ARRAYS if name not in arrays]
        if missing:
            raise IndexUnusable(f"it lacks {', '.join(missing)}")
        meta = IndexMeta.from_json(arrays.pop("meta").tobytes().decode(errors="replace"))
        return cls(meta, **arrays)
