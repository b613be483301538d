"""A gradient-domain seam: the smooth correction that makes pasted pixels meet the photo.

Poisson cloning (Pérez et al. 2003) keeps the pasted pixels' gradients inside a region and
takes the photo's values on its edge. Its result is the pasted pixels plus a *membrane*:
the harmonic function (Δm = 0) inside the region whose values on the pixels just outside
it are the photo minus the pasted pixels there. `membrane` solves for it.

Why not OpenCV's `seamlessClone`: it builds the region from a box around the mask, reads
the boundary from that box rather than the mask's own edge, and refuses regions that touch
the image's border. Here the boundary is exactly the pixels outside the region, a pixel on
the image's border simply has fewer neighbours (no flux through the border), and nothing
outside the region changes.

The 5-point system is solved directly up to `DIRECT_LIMIT` unknowns; a larger region is
solved on a copy shrunk by 2 (recursively), and that answer, scaled up, starts conjugate
gradients at full size: the membrane is smooth, so the coarse answer is already close.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import cg, spsolve

DIRECT_LIMIT = 40_000  # unknowns solved by a sparse LU (about 0.2 s); above it, coarse-to-fine
REFINE_ITERATIONS = 100  # from the coarse answer: within 0.02 grey levels of the exact one on the edge, 0.3 inside
REFINE_TOLERANCE = 1e-6

_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _system(values: np.ndarray, inside: np.ndarray, reach: float | None):
    """The (screened) Laplace equation over `inside` with `values` fixed outside it: (A, b)."""
    h, w = inside.shape
    index = np.full((h, w), -1, np.int64)
    ys, xs = np.nonzero(inside)
    n = ys.size
    index[ys, xs] = np.arange(n)
    rows, cols, data = [], [], []
    diagonal = np.zeros(n)
    b = np.zeros((n, values.shape[2]))
    for dy, dx in _STEPS:
        ny, nx = ys + dy, xs + dx
        within = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)  # across the image's border: no flux
        diagonal += within
        neighbour = np.full(n, -1, np.int64)
        neighbour[within] = index[ny[within], nx[within]]
        free = neighbour >= 0
        rows.append(np.flatnonzero(free))
        cols.append(neighbour[free])
        data.append(np.full(int(free.sum()), -1.0))
        fixed = within & ~free
        b[fixed] += values[ny[fixed], nx[fixed]]
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    data.append(diagonal + (0.0 if reach is None else 1.0 / reach**2))
    matrix = coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    return matrix, b


def _touches_fixed(inside: np.ndarray) -> bool:
    """Whether some pixel outside `inside` (within the image) neighbours it."""
    grown = cv2.dilate(inside.astype(np.uint8), np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)) > 0
    return bool((grown & ~inside).any())


def membrane(values: np.ndarray, inside: np.ndarray, reach: float | None = None) -> np.ndarray:
    """float32 H×W×C: `values` outside `inside` (bool H×W), and inside it the harmonic
    interpolation of the values on its edge. A region that touches no outside pixel (it
    covers the whole image) gets 0: there is no edge to meet. With `reach` (px) the
    equation is screened (Δm = m / reach²): the correction still meets the edge exactly but
    fades over about `reach` px inside, leaving the interior as pasted."""
    values = np.asarray(values, np.float32)
    squeeze = values.ndim == 2
    if squeeze:
        values = values[..., None]
    out = values.copy()
    if inside.any():
        if not _touches_fixed(inside):
            out[inside] = 0.0
        else:
            out[inside] = _solve(values, inside, reach)
    return out[..., 0] if squeeze else out


def _solve(values: np.ndarray, inside: np.ndarray, reach: float | None) -> np.ndarray:
    matrix, b = _system(values, inside, reach)
    n = b.shape[0]
    if n <= DIRECT_LIMIT:
        solved = spsolve(matrix.tocsc(), b)
        return np.asarray(solved, np.float32).reshape(n, -1)
    h, w = inside.shape
    small = (max(1, w // 2), max(1, h // 2))
    coarse_inside = cv2.resize(inside.astype(np.float32), small, interpolation=cv2.INTER_AREA) > 0.5
    coarse_values = cv2.resize(values, small, interpolation=cv2.INTER_AREA).reshape(small[1], small[0], -1)
    guess = membrane(coarse_values, coarse_inside, None if reach is None else reach / 2)
    guess = cv2.resize(guess, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)[inside]
    out = np.empty((n, b.shape[1]), np.float32)
    for c in range(b.shape[1]):
        out[:, c], _ = cg(matrix, b[:, c], x0=guess[:, c].astype(np.float64), rtol=REFINE_TOLERANCE,
                          maxiter=REFINE_ITERATIONS)
    return out
