"""`import sketch` stays light and exports the public functions."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sketch


def test_import_does_not_load_torch_or_h5py():
    code = ("import sys, sketch; from sketch import synthesize_sketch, thin_lines; "
            "print('torch' in sys.modules, 'h5py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.split() == ["False", "False"]


def test_public_names_resolve():
    for name in sketch.__all__:
        assert getattr(sketch, name) is not None
    assert callable(sketch.photo_edges) and callable(sketch.load_hed)
