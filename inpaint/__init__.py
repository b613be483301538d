"""Sketch-guided face inpainting engine: partial-conv U-Net, weights, and the `Editor` API."""
from .partialconv import PartialConv2d
from .generator import GeneratorConfig, SketchPConvUNet, composite

__all__ = ["PartialConv2d", "GeneratorConfig", "SketchPConvUNet", "composite"]
from .editor import Editor, EditInfo, EditResult
from .weights import WeightsError, save_checkpoint, read_checkpoint

__all__ += ["Editor", "EditInfo", "EditResult", "WeightsError", "save_checkpoint", "read_checkpoint"]
