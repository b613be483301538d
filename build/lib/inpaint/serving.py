"""The trained generator rearranged for serving: same function, less work.

`SketchPConvUNet` is written for training (BatchNorm layers, masks re-applied at every
input, whatever memory layout the trainer chose). `ServingUNet.from_generator` turns a
trained one into an inference-only network that computes the same output to float
rounding (`tests/test_serving.py`). What changes, and why (each measured on 2 AVX2 cores
with `python -m inpaint.bench`, which reports the whole against the machine's FLOP limit):

* BatchNorm folded into the partial convs. A block computes `bn(conv(x⊙M)·r)` with
  r = sum(1)/sum(M); BN is a per-channel `y·s + t`, so the block is `conv_{W·s}(x⊙M)·r + t`.
* Outputs gated by the new mask: `t` (or the bias) is added only where the new mask is 1,
  so every block's output is already 0 in the hole (the activations map 0 to 0) and no
  input is ever re-masked. The training network's values there differ, but nothing reads
  them: every consumer masks them away.
* A sub-pixel decoder (`ServingUpPConv`): a 3×3 conv over a 2×-nearest-upsampled map is
  four 2×2 convs over the coarse map, so the upsampled map is never built and its part of
  the conv takes 16 taps instead of 36 (6.70 → 5.73 GFLOP for the 256-px edit). A network
  trained with bilinear steps (`GeneratorConfig.upsample`) builds the 2× map instead.
* One memory layout, channels-last, throughout, with concatenations written straight into
  it: oneDNN ran the decoder's wide convs 15–40 % faster on it than on NCHW, and a mixed
  network pays a reorder at each switch (a cat of NCHW inputs cost a 20-ms copy).
* The last layer's 3 outputs padded to 4: oneDNN has no 3-wide blocked kernel and fell
  back to a slow one (12 → 7 ms).

The window counts sum(M) are box sums of one-channel count maps (`avg_pool2d` with
divisor 1): exact small integers, as the ones-kernel convolution of `PartialConv2d` gives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .contract import Guide
from .generator import PConvBlock, SketchPConvUNet, upsample_masked
from .partialconv import pconv_ratio

LAST_LAYER_CHANNELS = 4  # the 3 RGB outputs padded to this (see the module docstring)
SUBPIXEL_MIN_SIDE = 16  # see ServingUpPConv


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


def _cat_nhwc(parts: list[torch.Tensor]) -> torch.Tensor:
    """Channel concatenation straight into channels-last memory (torch.cat of mixed or
    one-channel inputs may pick NCHW, which the next convolution would copy back)."""
    return torch.cat([p.permute(0, 2, 3, 1) for p in parts], dim=3).permute(0, 3, 1, 2)


def subpixel_kernels(weight: torch.Tensor) -> torch.Tensor:
    """A 3×3 kernel over a 2×-nearest-upsampled map, as four 2×2 kernels over the coarse map.

    Output pixel (2Y+dy, 2X+dx) of conv3x3(up(h), W) reads coarse rows Y-1, Y, Y (dy = 0) or
    Y, Y, Y+1 (dy = 1), and likewise for columns, so the taps that land on the same coarse
    pixel add up. Returns (4·Cout)×Cin×2×2, phase (dy, dx) at channels [(2dy+dx)·Cout, …);
    convolved with the coarse map padded by one pixel ((h+1)×(w+1) outputs), phase (dy, dx)
    is the h×w window at offset (dy, dx)."""
    fold = weight.new_tensor([[[1, 0, 0], [0, 1, 1]], [[1, 1, 0], [0, 0, 1]]])  # [phase, tap, 3×3 row]
    phases = [torch.einsum("ai,ocij,bj->ocab", fold[dy], weight, fold[dx]) for dy in (0, 1) for dx in (0, 1)]
    return torch.cat(phases)


class ServingPConv(nn.Module):
    """One `PConvBlock` (partial conv → BN → activation) with its BN folded in.

    `forward(masked, valid_count)` takes the input already masked (hole pixels 0) and the
    number of valid input channels per pixel (B×1×H×W), and returns (output, new mask);
    the output is 0 wherever the new mask is (`act(0) = 0`), so it is masked already."""

    def __init__(self, block: PConvBlock, pad_out_to: int = 0):
        super().__init__()
        conv = block.conv
        weight = conv.weight.detach().float()
        offset = None if conv.bias is None else conv.bias.detach().float()
        if block.bn is not None:
            bn = block.bn
            scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
            weight = weight * scale.view(-1, 1, 1, 1)
            shift = bn.bias.detach().float() - bn.running_mean.float() * scale
            offset = shift if offset is None else shift + offset * scale
        self.out_channels = weight.shape[0]
        if pad_out_to > self.out_channels:
            weight = torch.cat([weight, weight.new_zeros(pad_out_to - self.out_channels, *weight.shape[1:])])
        self.register_buffer("weight", _nhwc(weight))
        self.register_buffer("offset", None if offset is None else offset.view(1, -1, 1, 1))
        self.kernel_size, self.stride, self.padding = conv.kernel_size, conv.stride, conv.padding
        self.window = float(conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1])
        activation = block.activation
        if activation is None:
            self.slope = None
        elif isinstance(activation, nn.ReLU):
            self.slope = 0.0
        elif isinstance(activation, nn.LeakyReLU):
            self.slope = float(activation.negative_slope)
        else:
            raise TypeError(f"no serving form for the activation {activation!r}")

    def forward(self, masked: torch.Tensor, valid_count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = F.conv2d(masked, self.weight, None, self.stride, self.padding)
        return self.finish(out, valid_count)

    def finish(self, out: torch.Tensor, valid_count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """raw conv output → ·sum(1)/sum(M), + offset where the new mask is 1, activation."""
        count = F.avg_pool2d(valid_count, self.kernel_size, self.stride, self.padding, divisor_override=1)
        ratio, new_mask = pconv_ratio(count, self.window)
        if out.shape[1] != self.out_channels:
            out = out[:, : self.out_channels]
        out.mul_(ratio)
        if self.offset is not None:
            out.addcmul_(self.offset, new_mask)
        if self.slope == 0.0:
            out.relu_()
        elif self.slope is not None:
            F.leaky_relu(out, self.slope, inplace=True)
        return out, new_mask


class ServingUpPConv(ServingPConv):
    """A decoder block, whose input is [nearest_2x(coarse), *rest]. On a coarse map of at
    least `SUBPIXEL_MIN_SIDE`² the coarse part is convolved at its own resolution by the
    sub-pixel kernels (`subpixel_kernels`: 16 taps where the upsampled map would take 36),
    the rest at full resolution, and the four phases are added into the output: the 2× map
    is never built. Below that, oneDNN's 2×2 kernels on a few pixels ran slower than the
    plain upsample-and-concatenate (measured per decoder level on 2 AVX2 cores), so that
    path stays."""

    def __init__(self, block: PConvBlock, coarse_channels: int, pad_out_to: int = 0):
        super().__init__(block, pad_out_to)
        weight = self.weight.contiguous()
        self.register_buffer("weight_rest", _nhwc(weight[:, coarse_channels:]))
        self.register_buffer("weight_coarse", _nhwc(subpixel_kernels(weight[:, :coarse_channels])))

    def forward(self, coarse: torch.Tensor, rest: torch.Tensor, valid_count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = coarse.shape
        if min(h, w) < SUBPIXEL_MIN_SIDE:
            both = _cat_nhwc([F.interpolate(coarse, scale_factor=2.0, mode="nearest"), rest])
            return super().forward(both, valid_count)
        out = _nhwc(F.conv2d(rest, self.weight_rest, None, 1, 1))
        phases = F.conv2d(coarse, self.weight_coarse, None, 1, 1).permute(0, 2, 3, 1)  # (h+1)×(w+1)
        c = out.shape[1]
        target = out.permute(0, 2, 3, 1).view(b, h, 2, w, 2, c)  # NHWC memory, split into phases
        for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            target[:, :, dy, :, dx] += phases[:, dy : dy + h, dx : dx + w, k * c : (k + 1) * c]
        return self.finish(out, valid_count)


class ServingUNet(nn.Module):
    """`SketchPConvUNet`'s forward for inference; build it with `from_generator`."""

    def __init__(self, generator: SketchPConvUNet):
        super().__init__()
        self.config = generator.config
        self.encoder = nn.ModuleList(ServingPConv(block) for block in generator.encoder)
        enc = self.config.encoder_channels()
        pads = [LAST_LAYER_CHANNELS if i == 0 else 0 for i in range(len(generator.decoder))]
        if self.config.upsample == "nearest":
            self.decoder = nn.ModuleList(ServingUpPConv(b, enc[i], pads[i]) for i, b in enumerate(generator.decoder))
        else:  # the 2× map is built (ServingUNet.forward), the block is a plain conv over it
            self.decoder = nn.ModuleList(ServingPConv(b, pads[i]) for i, b in enumerate(generator.decoder))
        self.sketch_encoder = generator.sketch_encoder
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_generator(cls, generator: SketchPConvUNet) -> "ServingUNet":
        """A serving copy of a trained generator (its BN statistics, in eval mode)."""
        import copy

        source = copy.deepcopy(generator).float().eval()
        serving = cls(source)
        if serving.sketch_encoder is not None:
            serving.sketch_encoder = serving.sketch_encoder.to(memory_format=torch.channels_last)
            for layer in serving.sketch_encoder.modules():
                if isinstance(layer, nn.LeakyReLU):
                    layer.inplace = True  # its input is a conv output nothing else reads
        return serving

    @torch.inference_mode()
    def forward(
        self,
        image: torch.Tensor,
        valid: torch.Tensor,
        guide: Guide | None = None,
        hole_only: bool = False,
    ) -> torch.Tensor:
        """As `SketchPConvUNet.forward`: image B×3 in [-1, 1], valid B×1 (1 = known) → B×3.

        With `hole_only`, the decoder runs only where the hole's output depends on it
        (`decoder_boxes`) and the prediction is 0 outside the hole's bounding box: for a
        caller that keeps the known pixels (a composite), the same result for less work."""
        image, valid = _nhwc(image.float()), _nhwc(valid.float())
        sketch_features: list[torch.Tensor] = []
        if self.sketch_encoder is not None:
            sketch_features = self.sketch_encoder(_nhwc((guide or Guide()).planes(valid)))
        zero = image.new_zeros(())
        known = valid > 0.5

        # Each skip: (masked features, valid input channels per pixel); the finest also holds
        # the mask itself as an always-valid channel, as in the training network.
        masked_image = torch.where(known, image, zero)
        skips = [(_cat_nhwc([masked_image, valid]), valid * 3 + 1)]
        h, m, count = masked_image, valid, valid * 3
        for block in self.encoder:
            h, m = block(h, count)
            count = m * h.shape[1]
            skips.append((h, count))

        side = image.shape[-2:]
        levels = len(self.decoder)
        bilinear = self.config.upsample == "bilinear"
        reach = 1 if bilinear else 0  # coarse pixels beyond a window's half that its 2× step reads
        boxes = decoder_boxes(~known, levels, reach) if hole_only else [full_box(side, i) for i in range(levels + 1)]
        if boxes is None:  # no hole: nothing to predict
            return image.new_zeros(image.shape[0], self.decoder[0].out_channels, *side)
        h, _ = skips.pop()  # the deepest level, whole: it holds boxes[-1]
        for i in reversed(range(len(self.decoder))):
            (y0, y1, x0, x1), (py0, _, px0, _) = boxes[i], boxes[i + 1]
            wy0, wy1, wx0, wx1 = input_window(boxes[i], side[0] >> i, side[1] >> i)
            window = (..., slice(wy0, wy1), slice(wx0, wx1))
            if bilinear:  # upsample the window grown by `reach`, then cut the window out
                half = (wy0 // 2, wy1 // 2, wx0 // 2, wx1 // 2)
                gy0, gy1, gx0, gx1 = grow(half, reach, side[0] >> (i + 1), side[1] >> (i + 1))
                grown = (..., slice(gy0 - py0, gy1 - py0), slice(gx0 - px0, gx1 - px0))
                h, m = upsample_masked(h[grown], m[grown], "bilinear")
                cut = (..., slice(wy0 - 2 * gy0, wy1 - 2 * gy0), slice(wx0 - 2 * gx0, wx1 - 2 * gx0))
                h, m = h[cut], m[cut]
            else:  # the decoder block upsamples h itself (sub-pixel kernels)
                coarse = (..., slice(wy0 // 2 - py0, wy1 // 2 - py0), slice(wx0 // 2 - px0, wx1 // 2 - px0))
                h, m = h[coarse], F.interpolate(m[coarse], scale_factor=2.0, mode="nearest")
            rest, count = skips.pop()
            rest, count = rest[window], count[window]
            count = count + m * h.shape[1]
            if sketch_features and self.config.sketch_joins(i):
                rest = _cat_nhwc([rest, sketch_features[i][window]])
                count = count + sketch_features[i].shape[1]
            if bilinear:
                h, m = self.decoder[i](_cat_nhwc([h, rest]), count)
            else:
                h, m = self.decoder[i](_nhwc(h), _nhwc(rest), count)
            inner = (..., slice(y0 - wy0, y1 - wy0), slice(x0 - wx0, x1 - wx0))
            h, m = h[inner], m[inner]
        h = h[:, : self.decoder[0].out_channels]
        if tuple(h.shape[-2:]) == tuple(side):
            return h.contiguous()
        y0, y1, x0, x1 = boxes[0]
        out = image.new_zeros(image.shape[0], h.shape[1], *side)
        out[..., y0:y1, x0:x1] = h
        return out


def full_box(side: tuple[int, int], level: int) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of a whole decoder level's map (level 0 = the output)."""
    return 0, side[0] >> level, 0, side[1] >> level


def input_window(box: tuple[int, int, int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """The window of a decoder level's inputs that its output `box` reads: the box grown by
    the 3×3 kernel's reach, on even lines (so that it is the 2× image of a coarse box),
    inside the height×width map."""
    y0, y1, x0, x1 = box
    return (max(0, (y0 - 1) // 2 * 2), min(height, (y1 + 2) // 2 * 2),
            max(0, (x0 - 1) // 2 * 2), min(width, (x1 + 2) // 2 * 2))


def grow(box: tuple[int, int, int, int], by: int, height: int, width: int) -> tuple[int, int, int, int]:
    """`box` grown by `by` pixels on each side, inside the height×width map."""
    y0, y1, x0, x1 = box
    return max(0, y0 - by), min(height, y1 + by), max(0, x0 - by), min(width, x1 + by)


def decoder_boxes(hole: torch.Tensor, levels: int, reach: int = 0) -> list[tuple[int, int, int, int]] | None:
    """Per decoder level (0 = the output), the box (y0, y1, x0, x1) of that level's output the
    hole's prediction depends on: the hole's bounding box at level 0, and at each coarser
    level the half of the finer level's `input_window`, grown by `reach` (what a bilinear
    2× step reads beyond it). Level `levels` is the encoder's deepest map, which is always
    whole. None when there is no hole."""
    any_hole = hole.flatten(0, 1).any(0)
    rows, cols = any_hole.any(1).nonzero(), any_hole.any(0).nonzero()
    if not rows.numel():
        return None
    side = tuple(hole.shape[-2:])
    boxes = [(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)]
    for level in range(1, levels):
        y0, y1, x0, x1 = input_window(boxes[-1], side[0] >> (level - 1), side[1] >> (level - 1))
        boxes.append(grow((y0 // 2, y1 // 2, x0 // 2, x1 // 2), reach, side[0] >> level, side[1] >> level))
    return [*boxes, full_box(side, levels)]
