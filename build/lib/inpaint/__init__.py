"""Sketch-guided face inpainting engine: partial-conv U-Net, weights, and the `Editor` API."""
from .partialconv import PartialConv2d
from .contract import Guide, composite
from .generator import GeneratorConfig, SketchPConvUNet

__all__ = ["PartialConv2d", "GeneratorConfig", "SketchPConvUNet", "Guide", "composite"]
from .editor import Editor, EditInfo, EditResult
from .weights import WeightsError, save_checkpoint, read_checkpoint

__all__ += ["Editor", "EditInfo", "EditResult", "WeightsError", "save_checkpoint", "read_checkpoint"]
