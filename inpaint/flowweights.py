"""The flow network's weights (`inpaint.flownet`): one safetensors file, its config in the
header, shipped beside the generator as `inpaint/checkpoints/flow.safetensors`. Nothing
here unpickles."""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .flownet import FlowNet, FlowNetConfig
from .weights import CHECKPOINT_DIR, WeightsError

ARCHITECTURE = "reshape-flow-net"
FLOW_NAME = "flow"


def default_flow_path() -> Path:
    return CHECKPOINT_DIR / f"{FLOW_NAME}.safetensors"


def save_flow_weights(net: FlowNet, path: str | Path, training: dict | None = None) -> Path:
    """Write the network's weights (fp32: it is small) with its config in the header."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"architecture": ARCHITECTURE, "config": net.config.to_dict(), "training": training or {}}
    tensors = {k: v.detach().cpu().float().contiguous() for k, v in net.state_dict().items()}
    save_file(tensors, str(path), metadata={"sketchface": json.dumps(meta)})
    return path


def load_flow_net(path: str | Path) -> FlowNet:
    """The network in `path`; any problem is one WeightsError saying what was expected."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:  # one read: the header and the tensors
            meta = json.loads((handle.metadata() or {}).get("sketchface", "{}"))
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: not a readable flow-network safetensors file ({exc})") from None
    if meta.get("architecture") != ARCHITECTURE:
        raise WeightsError(f"{path}: architecture {meta.get('architecture')!r}, expected {ARCHITECTURE!r}")
    try:
        net = FlowNet(FlowNetConfig.from_dict(meta["config"]))
        net.load_state_dict(tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path}: weights do not fit the flow network ({exc})") from None
    return net.eval()
