"""Partial convolution: the exact maths of Liu et al. eq. 1-2, and the properties that make it worth having."""
import itertools

import numpy as np
import pytest
import torch

from inpaint import PartialConv2d


def brute_force(layer: PartialConv2d, x: torch.Tensor, mask: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Window by window in float64: out = W·(X⊙M)·sum(1)/sum(M) + b where sum(M) > 0, else 0."""
    w = layer.weight.detach().double().numpy()
    b = layer.bias.detach().double().numpy() if layer.bias is not None else np.zeros(w.shape[0])
    xs = x.double().numpy()
    ms = mask.double().numpy()
    if ms.shape[1] == 1:
        ms = np.repeat(ms, xs.shape[1], axis=1)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = layer.kernel_size, layer.stride, layer.padding, layer.dilation
    xp = np.pad(xs, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    mp = np.pad(ms, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    batch, cin, hp, wp = xp.shape
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((batch, w.shape[0], oh, ow))
    new = np.zeros((batch, 1, oh, ow))
    for n, i, j in itertools.product(range(batch), range(oh), range(ow)):
        rows = i * sh + dh * np.arange(kh)
        cols = j * sw + dw * np.arange(kw)
        xw = xp[n][:, rows][:, :, cols]
        mw = mp[n][:, rows][:, :, cols]
        total = mw.sum()
        if total > 0:
            raw = np.einsum("ockl,ckl->o", w, xw * mw)
            out[n, :, i, j] = raw * (mw.size / total) + b
            new[n, 0, i, j] = 1
    return out, new


@pytest.mark.parametrize(
    "kernel,stride,padding,dilation,bias,multi",
    [
        (3, 1, 1, 1, True, False),
        (3, 2, 1, 1, True, False),
        (5, 2, 2, 1, False, False),
        (7, 2, 3, 1, True, False),
        (3, 1, 2, 2, True, False),
        (3, 2, 0, 1, True, True),
        (4, 3, 1, 2, True, True),
    ],
)
def test_matches_brute_force(kernel, stride, padding, dilation, bias, multi):
    torch.manual_seed(kernel * 100 + stride * 10 + padding)
    layer = PartialConv2d(3, 4, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias)
    if bias:
        torch.nn.init.normal_(layer.bias)
    x = torch.randn(2, 3, 13, 11)
    mask = (torch.rand(2, 3 if multi else 1, 13, 11) > 0.6).float()
    mask[1, :, 1:12, 0:10] = 0  # a large hole: some windows see nothing at all
    out, new_mask = layer(x, mask)
    ref_out, ref_new = brute_force(layer, x, mask)
    np.testing.assert_allclose(out.detach().double().numpy(), ref_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(new_mask.numpy(), ref_new)
    assert (new_mask == 0).any() and (new_mask == 1).any()


def test_output_does_not_depend_on_hole_values():
    torch.manual_seed(0)
    layer = PartialConv2d(3, 8, 5, stride=2, padding=2)
    x = torch.randn(1, 3, 32, 32)
    mask = torch.ones(1, 1, 32, 32)
    mask[..., 8:24, 10:20] = 0
    out, _ = layer(x, mask)
    for filler in (torch.randn_like(x) * 100, torch.full_like(x, float("nan")), torch.full_like(x, float("inf"))):
        changed = torch.where(mask > 0, x, filler)
        out2, _ = layer(changed, mask)
        assert torch.equal(out, out2)


def test_holes_shrink_layer_by_layer_and_vanish():
    layer = PartialConv2d(1, 1, 3, padding=1)
    mask = torch.ones(1, 1, 32, 32)
    mask[..., 4:28, 4:28] = 0
    x = torch.randn(1, 1, 32, 32)
    holes = [int((mask == 0).sum())]
    while holes[-1] > 0:
        x, mask = layer(x, mask)
        holes.append(int((mask == 0).sum()))
        assert len(holes) < 20
    assert all(a > b for a, b in zip(holes, holes[1:]))
    assert holes == [24 * 24, 22 * 22, 20 * 20, 18 * 18, 16 * 16, 14 * 14, 12 * 12, 10 * 10, 8 * 8, 6 * 6, 4 * 4, 2 * 2, 0]


def test_fully_invalid_window_gives_zero_not_bias():
    layer = PartialConv2d(2, 3, 3, padding=1)
    torch.nn.init.constant_(layer.bias, 5.0)
    out, new_mask = layer(torch.randn(1, 2, 8, 8), torch.zeros(1, 1, 8, 8))
    assert torch.equal(out, torch.zeros_like(out)) and torch.equal(new_mask, torch.zeros_like(new_mask))


def test_full_mask_is_an_ordinary_conv():
    torch.manual_seed(1)
    layer = PartialConv2d(3, 5, 3, stride=1, padding=0)
    x = torch.randn(1, 3, 9, 9)
    out, new_mask = layer(x, torch.ones(1, 1, 9, 9))
    torch.testing.assert_close(out, torch.nn.functional.conv2d(x, layer.weight, layer.bias))
    assert bool((new_mask == 1).all())


def test_ones_kernel_is_a_non_persistent_buffer_that_follows_to():
    layer = PartialConv2d(3, 4, 3)
    assert "ones_kernel" not in layer.state_dict()
    assert "ones_kernel" in dict(layer.named_buffers())
    layer = layer.to(torch.float64)
    assert layer.ones_kernel.dtype == torch.float64
    out, _ = layer(torch.randn(1, 3, 6, 6, dtype=torch.float64), torch.ones(1, 1, 6, 6, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_ratio_stays_fp32_under_autocast_and_matches_fp32_output():
    torch.manual_seed(2)
    layer = PartialConv2d(4, 4, 3, padding=1)
    x = torch.randn(1, 4, 16, 16)
    mask = (torch.rand(1, 1, 16, 16) > 0.5).float()
    ref, ref_mask = layer(x, mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ratio, _ = layer.mask_ratio(mask)
        out, new_mask = layer(x, mask)
    assert ratio.dtype == torch.float32
    assert torch.equal(new_mask, ref_mask)
    torch.testing.assert_close(out.float(), ref, atol=0.1, rtol=0.05)


def test_wrong_mask_channels_is_a_clear_error():
    layer = PartialConv2d(3, 4, 3)
    with pytest.raises(ValueError, match="mask must have 1 or 3 channels"):
        layer(torch.randn(1, 3, 8, 8), torch.ones(1, 2, 8, 8))


def test_gradients_reach_weights_not_mask():
    layer = PartialConv2d(2, 2, 3, padding=1)
    x = torch.randn(1, 2, 8, 8, requires_grad=True)
    mask = (torch.rand(1, 1, 8, 8) > 0.3).float().requires_grad_(True)
    out, _ = layer(x, mask)
    out.sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    assert x.grad[(mask.detach() == 0).expand_as(x)].abs().sum() == 0  # hole pixels get no gradient


@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, 1), (5, 2, 2)])
def test_grouped_masks_equal_the_concatenated_per_channel_mask_bit_for_bit(kernel, stride, padding):
    """The decoder's path: features, skip features and always-valid guide channels, each with its
    own one-channel mask, give exactly what the layer gives on the concatenation."""
    torch.manual_seed(4)
    layer = PartialConv2d(3 + 2 + 4, 6, kernel, stride=stride, padding=padding)
    parts = [torch.randn(2, c, 12, 12) for c in (3, 2, 4)]
    masks = [(torch.rand(2, 1, 12, 12) > p).float() for p in (0.3, 0.8)] + [None]
    masks[1][0] = 0  # one sample whose skip group is wholly invalid
    full = [torch.ones(2, 1, 12, 12) if m is None else m for m in masks]
    per_channel = torch.cat([m.expand(-1, x.shape[1], -1, -1) for m, x in zip(full, parts)], dim=1)
    ref, ref_mask = layer(torch.cat(parts, dim=1), per_channel)
    out, new_mask = layer.forward_groups(list(zip(parts, masks)))
    assert torch.equal(out, ref) and torch.equal(new_mask, ref_mask)
    expected, expected_mask = brute_force(layer, torch.cat(parts, dim=1), per_channel)
    np.testing.assert_allclose(out.detach().double().numpy(), expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_array_equal(new_mask.numpy(), expected_mask)


def test_grouped_masks_reject_wrong_channel_counts():
    layer = PartialConv2d(5, 4, 3, padding=1)
    x, mask = torch.randn(1, 3, 8, 8), torch.ones(1, 1, 8, 8)
    with pytest.raises(ValueError, match="groups hold 3 channels, the layer takes 5"):
        layer.forward_groups([(x, mask)])
    with pytest.raises(ValueError, match="a group's mask must have 1 channel"):
        layer.forward_groups([(x, torch.ones(1, 3, 8, 8)), (torch.randn(1, 2, 8, 8), None)])
