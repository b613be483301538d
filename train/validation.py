"""A small fixed validation that runs inside the training loop, on what a person would see.

Held-out faces of the training cache (`train.data.is_holdout`: never trained on), each
with three fixed cases built once: its mouth, nose or eyes masked (the part from its
landmarks, grown) and filled without a sketch and with the oracle sketch (its own thin
lines), and the transfer case (the next held-out face's same part drawn in); plus a large
free-form hole (30–50 % of the face) filled without a sketch, where a U-Net's blocks show,
and the mouth filled with and without a dozen dabs of the next face's lip colour.
Scores: sharpness and edge F1 (`evaluation.quality`), transfer F1 against the given lines with
the pasted real part's F1 beside it (the ceiling), the transfer's structure against the real
part and its ink (`evaluation.transfer.transfer_scores`) with OpenCV Telea's and the unedited
face's beside them (constants of the set), sharpness and grid of the large hole,
how far the dabs moved the mouth's colour (`evaluation.transfer.colour_move`), and hole PSNR
as the floor.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from evaluation import quality
from evaluation.transfer import (PARTS, colour_dabs, colour_move, lip_colour, part_hole, telea_fill, transfer_case,
                                 transfer_scores)
from holes.masks import MaskParams, random_mask
from inpaint import Editor
from inpaint.engines import FrameInputs

from .data import CacheSource
from .part_masks import has_landmarks


LARGE_HOLE = (0.3, 0.5)
LARGE_HOLE_SEED = 20


class Validation:
    def __init__(self, source: CacheSource, count: int = 16):
        faces = [source.get(i) for i in range(len(source))]
        faces = [f for f in faces if has_landmarks(f[2])][:count]
        if len(faces) < 2:
            raise ValueError("validation needs at least 2 held-out faces with landmarks")
        self.images = [f[0] for f in faces]
        self.holes, self.oracle, self.cases = [], [], []
        for i, (image, lines, landmarks) in enumerate(faces):
            part = PARTS[i % len(PARTS)]
            hole = part_hole(landmarks, image.shape[:2], part)
            self.holes.append(hole)
            self.oracle.append(lines & hole)
            other = faces[(i + 1) % len(faces)]
            self.cases.append(transfer_case(image, landmarks, other[0], other[1], other[2], part))
        rng = np.random.default_rng(LARGE_HOLE_SEED)
        self.large = [random_mask(rng, image.shape[0], MaskParams(hole_ratio=LARGE_HOLE)) for image in self.images]
        # colour transfer: the mouth filled with and without a dozen dabs of the next face's lip colour
        self.mouths = [part_hole(f[2], f[0].shape[:2], "mouth") for f in faces]
        self.lips = [lip_colour(*faces[(i + 1) % len(faces)][::2]) for i in range(len(faces))]
        self.dabs = [colour_dabs(m, lip, rng) for m, lip in zip(self.mouths, self.lips)]
        self.ceiling_f1 = quality.nanmean(transfer_scores(c.ceiling, im, c)["f1"]
                                          for c, im in zip(self.cases, self.images))
        self.references = {}  # what a sketch-blind fill and the face as it was score on the transfer
        for name, fill in (("telea", lambda im, c: telea_fill(im, c.hole)), ("unedited", lambda im, c: im)):
            scores = [transfer_scores(fill(im, c), im, c) for c, im in zip(self.cases, self.images)]
            for key in ("structure", "ink"):
                self.references[f"transfer_{key}_{name}"] = quality.nanmean(x[key] for x in scores)

    def _fill(self, editor: Editor, holes: list[np.ndarray], sketches: list[np.ndarray] | None,
              hints: list[tuple[np.ndarray, np.ndarray]] | None = None) -> list[np.ndarray]:
        frames = [FrameInputs(image, hole, None if sketches is None else sketches[i],
                              *(hints[i] if hints is not None else (None, None)), level=0.0)
                  for i, (image, hole) in enumerate(zip(self.images, holes))]
        return editor.fill_frames(frames)

    @torch.inference_mode()
    def run(self, model) -> dict[str, float]:
        """The scores of `model` (put in eval mode for the run, restored after). The fills are
        the editor's frame step (`Editor.fill_frames`) without its colour-hint step, so every
        score, `lip_colour` included, is the network's own."""
        was_training = model.training
        model.eval()
        editor = Editor.from_network(model, "validation", serving=False, follow_hints=False)
        try:
            unguided = self._fill(editor, self.holes, None)
            oracle = self._fill(editor, self.holes, self.oracle)
            transfer = self._fill(editor, [c.hole for c in self.cases], [c.sketch for c in self.cases])
            large = self._fill(editor, self.large, None)
            mouth = self._fill(editor, self.mouths, None)
            tinted = self._fill(editor, self.mouths, None, self.dabs)
        finally:
            model.train(was_training)
        out: dict[str, list[float]] = {k: [] for k in ("sharpness", "sharpness_sketch", "edge_f1", "edge_f1_sketch",
                                                       "transfer_f1", "transfer_sharpness", "transfer_structure",
                                                       "transfer_ink", "hole_psnr",
                                                       "large_sharpness", "large_grid", "lip_colour")}
        for i, truth in enumerate(self.images):
            hole = self.holes[i]
            for suffix, result in (("", unguided[i]), ("_sketch", oracle[i])):
                scores = quality.scores(result, truth, hole)
                out["sharpness" + suffix].append(scores["sharpness"])
                out["edge_f1" + suffix].append(scores["edge_f1"])
            mse = float(np.mean((unguided[i][hole].astype(np.float64) - truth[hole]) ** 2))
            out["hole_psnr"].append(10 * math.log10(255.0**2 / max(mse, 1e-10)))
            scores = transfer_scores(transfer[i], truth, self.cases[i])
            for key in ("f1", "sharpness", "structure", "ink"):
                out["transfer_" + key].append(scores[key])
            out["large_sharpness"].append(quality.sharpness(large[i], truth, self.large[i]))
            out["large_grid"].append(quality.grid(large[i], self.large[i]))
            out["lip_colour"].append(colour_move(tinted[i], mouth[i], self.mouths[i], self.lips[i]))
        summary = {k: quality.nanmean(v) for k, v in out.items()}
        summary["transfer_ceiling_f1"] = self.ceiling_f1
        summary.update(self.references)
        return summary


def main(argv: list[str] | None = None) -> int:
    """Score a run's EMA generator (or exported weights) on the in-loop validation, e.g. to
    put an older model beside a run's `validation.jsonl`:

        python -m train.validation RUN_DIR_OR_WEIGHTS --data CACHE [--images 24] [--threads 1]
    """
    import argparse
    import json
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m train.validation", description=main.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="a run directory (its last.pt EMA) or a .safetensors file")
    p.add_argument("--data", required=True, help="the prepared cache whose held-out faces are scored")
    p.add_argument("--images", type=int, default=24)
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model.is_dir():
        from inpaint.generator import SketchPConvUNet

        from .config import Recipe
        from .state import load_state

        state = load_state(args.model)
        if state is None:
            raise SystemExit(f"{args.model}: no run state (last.pt) to score")
        model = SketchPConvUNet(Recipe.from_dict(state["recipe"]).model.generator_config())
        model.load_state_dict(state["ema"])
        label = {"step": state["step"]}
    else:
        from inpaint.weights import build_generator, read_checkpoint

        model, label = build_generator(read_checkpoint(args.model)), {"weights": str(args.model)}
    validation = Validation(CacheSource(args.data, split="val"), args.images)
    scores = validation.run(model.eval())
    print(json.dumps({**label, **{k: round(v, 4) for k, v in scores.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
