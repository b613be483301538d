"""The reshape protocol's second way of finding the field: dense optical flow between the
two line maps, with no parts and no landmarks (`reshape_eval` compares it with the engine's
`inpaint.reshape.register`).

Each line map becomes exp(−distance to its lines / `SIGMA`); OpenCV's Farneback flow from
the sketch's map to the own lines' map is the backward field (the pixel at p comes from
p + flow[p]), smoothed, scaled by 1 − faithfulness, faded to zero at the hole's edge and
unfolded as the engine's is; the network's hole is found the same way.
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.part_maps import distance_inside
from inpaint.reshape import Reshape, centre_lines, network_hole, unfold

SIGMA = 3.0  # frame px (the engine's; × scale in a finer frame)
SMOOTH = 2.0  # frame px: Gaussian smoothing of the flow
FADE = 6.0  # frame px over which the flow fades in from the hole's edge


def closeness(lines: np.ndarray, scale: float = 1.0) -> np.ndarray:
    distance = cv2.distanceTransform((~lines).astype(np.uint8), cv2.DIST_L2, 5)
    return np.rint(255 * np.exp(-distance / (SIGMA * scale))).astype(np.uint8)


def flow_register(own: np.ndarray, sketch: np.ndarray, hole: np.ndarray, landmarks: np.ndarray | None = None,
                  faithfulness: float = 0.0, scale: float = 1.0) -> Reshape:
    """A `Registration` for `Editor.with_options`: Farneback flow between the line maps."""
    own_lines, sketch_lines = centre_lines(own, hole), centre_lines(sketch, hole)
    counts = (int(sketch_lines.sum()), int(own_lines.sum()))
    field = np.zeros(hole.shape + (2,), np.float32)
    if min(counts) == 0:
        return Reshape(field, hole.copy(), 0.0, *counts)
    flow = cv2.calcOpticalFlowFarneback(closeness(sketch_lines, scale), closeness(own_lines, scale), None, 0.5, 3,
                                        round(15 * scale), 5, 5, 1.1, 0)
    flow = cv2.GaussianBlur(flow, (0, 0), SMOOTH * scale) * (1.0 - faithfulness)
    ramp = np.clip(distance_inside(hole) / (FADE * scale), 0, 1)
    field = unfold((flow * ramp[..., None] * hole[..., None]).astype(np.float32))
    net_hole, matched = network_hole(own_lines, sketch_lines, field, hole, scale)
    return Reshape(field, net_hole, matched, *counts)
