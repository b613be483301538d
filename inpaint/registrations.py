"""The ways a reshape finds its field, and the choice between them (`Editor.load(registration=…)`).

* "classical" (the default): the photo's own lines registered to the sketch part by part
  (`inpaint.reshape.register`);
* "learned": the flow network (`inpaint.flownet`) from `inpaint/checkpoints/flow.safetensors`.

`docs/reshape_results.md` compares them on the reshape protocol: the classical wins on every part.
"""
from __future__ import annotations

from pathlib import Path

from .flownet import FlowRegistration
from .flowweights import default_flow_path, load_flow_net
from .reshape import register

REGISTRATIONS = ("classical", "learned")


def load_registration(name: str = "classical", path: str | Path | None = None):
    """(a `Registration` for the editor, a warning or ""). "learned" reads the flow network
    from `path` (default: `default_flow_path()`); with no weights there it is the classical
    one, with a warning. Unreadable weights raise WeightsError."""
    if name not in REGISTRATIONS:
        raise ValueError(f"registration must be one of {', '.join(REGISTRATIONS)}, not {name!r}")
    if name == "classical":
        return register, ""
    path = Path(path) if path is not None else default_flow_path()
    if not path.is_file():
        return register, f"no flow-network weights at {path}, so the classical registration is used"
    return FlowRegistration(load_flow_net(path)), ""
