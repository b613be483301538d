"""Training data: face images + their thin edge lines, turned into (image, hole, sketch, colour
hints, level) samples.

Two sources give the same (image uint8 S×S×3, lines bool S×S, landmarks 68×2 or None) triples:
* `CacheSource`: the folder written by `python -m train.prepare` (memory-mapped .npy; no
  JPEG decoding or edge detection in the loop: a 2-core CPU cannot afford either);
* `FolderSource`: any folder of images, decoded and edge-detected on the fly (slow; fine
  for tiny experiments and tests).

Samples are addressed by a global sample number n, and everything random about sample n
(which image, flip, mask, sketch, hints, level) comes from a generator seeded with
(seed, n). A run resumed at step k therefore sees exactly the batches it would have seen,
whatever the number of loader workers.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from inpaint.imageio import list_images, square_resize
from holes.masks import MaskParams, random_mask
from sketch.strokes import resize_max

from .config import DataSection
from .sample_parts import crop_around, sample_dict
from .gap_masks import gap_mask
from .part_masks import has_landmarks, part_mask

def edge_lines(image: np.ndarray, detector=None) -> np.ndarray:
    """Thin (1–2 px) lines of a face image, the raw material of training sketches."""
    from sketch import soft_edges, thin_lines

    return thin_lines(soft_edges(image, detector))


# File i with i % 500 == 499 is held out of training, for the in-loop validation (a cache
# unpacked by release.pack lists its held-out faces in holdout.npy instead).
HOLDOUT_EVERY = 500


def is_holdout(file_index: np.ndarray) -> np.ndarray:
    return np.asarray(file_index) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1


class CacheSource:
    """A cache from `train.prepare`; `split` "train" leaves out the held-out faces, "val" is only those.
    Only finished images are read, so training can start while the cache is still being written."""

    def __init__(self, folder: str | Path, split: str = "train"):
        folder = Path(folder)
        self.folder, self.split = folder, split
        self.meta = json.loads((folder / "meta.json").read_text())
        done = np.load(folder / "done.npy")
        ready = np.flatnonzero(done == 1)  # unreadable files (2) and unfinished ones (0) are skipped
        if split not in ("train", "val", "all"):
            raise ValueError(f"split must be train, val or all, not {split!r}")
        held = np.load(folder / "holdout.npy")[ready] if (folder / "holdout.npy").is_file() else is_holdout(ready)
        self.index = ready if split == "all" else ready[held == (split == "val")]
        if self.index.size == 0:
            raise ValueError(f"{folder}: the cache holds no prepared {split} images yet")
        self.images = np.load(folder / "images.npy", mmap_mode="r")
        self.lines = np.load(folder / "lines.npy", mmap_mode="r")
        path = folder / "landmarks.npy"
        self.landmarks = np.load(path, mmap_mode="r") if path.is_file() else None
        self.size = int(self.meta["size"])
        self.detector = self.meta.get("detector", "?")

    def __len__(self) -> int:
        return int(self.index.size)

    def __getstate__(self) -> dict:
        """Pickled for a loader worker by path and index: the memory maps are reopened there,
        not copied (a pickled memmap carries its whole array)."""
        state = self.__dict__.copy()
        for name in ("images", "lines", "landmarks"):
            state[name] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.images = np.load(self.folder / "images.npy", mmap_mode="r")
        self.lines = np.load(self.folder / "lines.npy", mmap_mode="r")
        path = self.folder / "landmarks.npy"
        self.landmarks = np.load(path, mmap_mode="r") if path.is_file() else None

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        j = self.index[i]
        lines = np.unpackbits(self.lines[j], axis=-1, count=self.size).astype(bool)
        landmarks = None if self.landmarks is None else np.array(self.landmarks[j])
        return np.array(self.images[j]), lines, landmarks


class FolderSource:
    def __init__(self, folder: str | Path, size: int = 256, detector: str | None = "gradient"):
        from inpaint.imageio import to_rgb

        self._to_rgb = to_rgb
        self.files = list_images(Path(folder))
        if not self.files:
            raise ValueError(f"{folder}: no images found")
        self.size = size
        self.detector = detector

    def __len__(self) -> int:
        return len(self.files)

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray, None]:
        image = square_resize(self._to_rgb(self.files[i]), self.size)
        return image, edge_lines(image, self.detector), None


def open_source(path: str | Path, size: int = 256, split: str = "train") -> CacheSource | FolderSource:
    path = Path(path)
    if (path / "meta.json").is_file():
        return CacheSource(path, split)
    if path.is_dir():
        return FolderSource(path, size)
    raise ValueError(f"{path}: neither a prepared cache nor a folder of images")


def choose_hole(rng: np.random.Generator, size: int, data: DataSection, landmarks: np.ndarray | None) -> np.ndarray:
    """The gaps a reshape leaves (share `gap_prob`) or a face part (share `part_prob` of the rest)
    from the landmarks, when there are landmarks; else a free-form/LaMa mask."""
    if not has_landmarks(landmarks):  # a centre crop where no face was found
        landmarks = None
    if data.gap_prob > 0 and landmarks is not None and rng.random() < data.gap_prob:
        return gap_mask(rng, landmarks, size)
    if data.part_prob > 0 and landmarks is not None and rng.random() < data.part_prob:
        return part_mask(rng, landmarks, size)[0]
    return random_mask(rng, size, MaskParams(hole_ratio=(data.hole_min, data.hole_max)), landmarks)


def make_sample(
    image: np.ndarray, lines: np.ndarray, rng: np.random.Generator, resolution: int, data: DataSection,
    landmarks: np.ndarray | None = None, full: bool = False,
) -> dict[str, torch.Tensor]:
    """One training sample; the hole, sketch, hints and level all come from `rng`.

    With `data.crop` set, a share `crop_prob` of samples is a crop of that side around the
    hole, at the cached image's own scale (the editor's scale: a face part is as many pixels
    as it will be when served); the rest are the whole face resized to the crop side.
    `full` asks for the whole face at `resolution` with a free-form hole: the large holes of
    the served geometry, which a crop cannot hold."""
    from sketch import pen_sketch, recolour_hole, synthesize_color_hints, synthesize_sketch

    if rng.random() < 0.5:
        image, lines = image[:, ::-1], lines[:, ::-1]
        if landmarks is not None:  # mirrored points; the two eyes swap roles, which the masks do not mind
            landmarks = np.c_[image.shape[1] - 1 - landmarks[:, 0], landmarks[:, 1]]
    image, lines = np.ascontiguousarray(image), np.ascontiguousarray(lines)
    out_side = resolution if full else data.crop or resolution
    cropped = not full and bool(data.crop) and image.shape[0] > data.crop and rng.random() < data.crop_prob
    if cropped:
        hole = choose_hole(rng, image.shape[0], data, landmarks)
        window = crop_around(hole, data.crop, rng)
        image, lines, hole = image[window], lines[window], hole[window]
        if not hole.any():
            hole[data.crop // 2 - 4: data.crop // 2 + 4, data.crop // 2 - 4: data.crop // 2 + 4] = True
        image, lines = np.ascontiguousarray(image), np.ascontiguousarray(lines)
    else:
        if image.shape[0] != out_side:
            factor = out_side / image.shape[0]
            image = cv2.resize(image, (out_side, out_side), interpolation=cv2.INTER_AREA)
            lines = resize_max(lines, (out_side, out_side))
            landmarks = None if landmarks is None else landmarks * factor
        hole = choose_hole(rng, out_side, data, None if full else landmarks)
    level = float(rng.uniform(0.0, 1.0)) ** data.level_power
    sketch = np.zeros_like(hole)
    if rng.random() >= data.sketch_dropout:
        if rng.random() < data.pen_prob:
            sketch = pen_sketch(lines, hole, rng)
        else:
            sketch = synthesize_sketch(lines, hole, level, rng)
    color = np.zeros_like(image)
    color_mask = np.zeros_like(hole)
    if rng.random() < data.color_prob:
        if data.recolor_prob > 0 and rng.random() < data.recolor_prob:  # the truth recoloured: only the hints say so
            image = recolour_hole(image, hole, rng)
        color, color_mask = synthesize_color_hints(image, hole, rng)
    return sample_dict(image, hole, sketch, color, color_mask, level, mismatched=False)


def batch_to(batch: dict, device: torch.device, memory_format: torch.memory_format) -> dict:
    """A collated batch on `device`, its image planes in `memory_format`."""
    def move(t: torch.Tensor) -> torch.Tensor:
        return t.to(device, non_blocking=True).contiguous(memory_format=memory_format)

    return {"image": move(batch["image"]), "valid": move(batch["valid"]),
            "guide": batch["guide"].to(device, memory_format), "mismatched": batch["mismatched"].to(device)}


class InpaintingSamples(Dataset):
    """Sample n → a training sample; see the module docstring for why samples are numbered."""

    def __init__(self, source: CacheSource | FolderSource, resolution: int, data: DataSection, seed: int):
        self.source, self.resolution, self.data, self.seed = source, resolution, data, seed
        self._epoch, self._order = -1, np.empty(0, np.int64)

    def __len__(self) -> int:
        return 2**62

    def image_index(self, n: int) -> int:
        epoch, k = divmod(n, len(self.source))
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = np.random.default_rng([self.seed, 7, epoch]).permutation(len(self.source))
        return int(self._order[k])

    def __getitem__(self, key: int | tuple[int, bool]) -> dict[str, torch.Tensor]:
        """key: the sample number n, or (n, full) from `StepBatches` (full: a whole face at the model resolution)."""
        n, full = key if isinstance(key, tuple) else (key, False)
        image, lines, landmarks = self.source.get(self.image_index(n))
        if self.data.mismatch_prob > 0 and not full and has_landmarks(landmarks):
            # its own generator, so recipes without mismatched samples draw exactly as before
            rng = np.random.default_rng([self.seed, n, 1])
            if rng.random() < self.data.mismatch_prob:
                donor = self.source.get(int(rng.integers(len(self.source))))
                if has_landmarks(donor[2]):
                    from .mismatch import mismatched_sample

                    return mismatched_sample(image, landmarks, (donor[0], donor[1], donor[2]), rng, self.data.crop,
                                             self.data.level_power)
        return make_sample(image, lines, np.random.default_rng([self.seed, n]), self.resolution, self.data, landmarks,
                           full)


class StepBatches(Sampler[list]):
    """The batches of steps start, start+1, …, as lists of (sample number, full) keys; process
    `rank` of `world` takes its own slice. With `full_every` N > 0, every N-th step is a batch
    of `full_batch` whole faces (the first samples of that step's numbers), so that a resumed
    run sees exactly the batches it would have seen."""

    def __init__(self, start_step: int, batch_size: int, rank: int = 0, world: int = 1, full_every: int = 0,
                 full_batch: int = 2):
        self.start_step, self.batch_size, self.rank, self.world = start_step, batch_size, rank, world
        self.full_every, self.full_batch = full_every, full_batch

    def is_full(self, step: int) -> bool:
        return self.full_every > 0 and step % self.full_every == self.full_every - 1

    def __iter__(self):
        step = self.start_step
        while True:
            first = (step * self.world + self.rank) * self.batch_size
            full = self.is_full(step)
            size = min(self.full_batch, self.batch_size) if full else self.batch_size
            yield [(n, full) for n in range(first, first + size)]
            step += 1

    def __len__(self) -> int:
        return 2**62
