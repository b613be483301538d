"""Everything about sketches: soft edges (HED or a fallback), line drawings, the photo's own
edges for the app, and synthetic training sketches and colour hints.

Names are imported lazily (PEP 562), so `import sketch` pulls in neither torch nor h5py; a
training loader that only synthesises sketches never loads the network code.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "layer_to_binary": "strokes", "color_hints": "strokes", "resize_max": "strokes", "resize_hints": "strokes",
    "EdgeDetector": "edges", "get_detector": "edges", "soft_edges": "edges", "clear_detector_cache": "edges",
    "gradient_soft_edges": "fallback",
    "thin_lines": "lines", "non_max_suppression": "lines",
    "photo_edges": "photo", "photo_edges_layer": "photo", "lines_to_layer": "photo", "own_strokes": "photo",
    "own_strokes_layer": "photo", "line_width": "photo", "own_and_faint_strokes": "photo",
    "SketchParams": "synthesis", "HintParams": "synthesis", "synthesize_sketch": "synthesis",
    "synthesize_color_hints": "synthesis", "recolour_hole": "synthesis", "median_image": "synthesis",
    "PenParams": "pen", "pen_sketch": "pen",
    "HED": "hed", "hed_edges": "hed",
    "load_hed": "hed_weights", "cache_dir": "hed_weights",
    "HedWeightsError": "hed_weights", "HedWeightsNotFoundError": "hed_weights",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sketch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
