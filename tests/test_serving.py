"""The serving network computes what the trained network computes (to float rounding)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inpaint import GeneratorConfig, Guide, SketchPConvUNet
from inpaint.engines import FrameInputs, PConvEngine
from inpaint.serving import ServingUNet, subpixel_kernels

TOLERANCE = 2e-4  # outputs lie in about [-1, 1]; folding BN reorders fp32 arithmetic


@pytest.fixture(scope="module", params=[("nearest", 0), ("bilinear", 0), ("nearest", 2)],
                ids=["nearest", "bilinear", "sketch-from-2"])
def trained(request):
    torch.manual_seed(0)
    upsample, sketch_from = request.param
    model = SketchPConvUNet(GeneratorConfig(width=0.25, upsample=upsample, sketch_from=sketch_from))
    for m in model.modules():  # BN statistics and affine terms far from the identity, so folding shows
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.3, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.2)
    return model.eval()


def _inputs(seed: int, hole_fraction: float):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 256, 256, generator=g) * 2 - 1
    valid = (torch.rand(2, 1, 32, 32, generator=g) > hole_fraction).float()
    valid = F.interpolate(valid, size=(256, 256), mode="nearest")
    sketch = (torch.rand(2, 1, 256, 256, generator=g) > 0.97).float()
    color = torch.rand(2, 3, 256, 256, generator=g) * 2 - 1
    color_mask = (torch.rand(2, 1, 256, 256, generator=g) > 0.99).float()
    return image, valid, sketch, color, color_mask


@pytest.mark.parametrize("side,channels", [(4, 8), (16, 5), (33, 3)])
def test_subpixel_kernels_equal_a_conv_over_the_upsampled_map(side, channels):
    g = torch.Generator().manual_seed(side)
    coarse = torch.randn(1, channels, side, side, generator=g)
    weight = torch.randn(6, channels, 3, 3, generator=g)
    want = F.conv2d(F.interpolate(coarse, scale_factor=2.0, mode="nearest"), weight, padding=1)
    phases = F.conv2d(coarse, subpixel_kernels(weight), padding=1)
    got = torch.empty_like(want)
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        got[:, :, dy::2, dx::2] = phases[:, 6 * k : 6 * (k + 1), dy : dy + side, dx : dx + side]
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("hole_fraction", [0.1, 0.6, 0.95])
@pytest.mark.parametrize("guided", [False, True])
def test_serving_network_equals_the_trained_one(trained, hole_fraction, guided):
    image, valid, sketch, color, color_mask = _inputs(int(hole_fraction * 100), hole_fraction)
    if not guided:
        sketch = color = color_mask = None
    level = torch.tensor([0.0, 0.7])
    with torch.inference_mode():
        guide = Guide(sketch, color, color_mask, level)
        want = trained(image, valid, guide)
        got = ServingUNet.from_generator(trained)(image, valid, guide)
    assert got.shape == want.shape and got.is_contiguous()
    assert (got - want).abs().max().item() < TOLERANCE


def test_serving_network_ignores_what_the_hole_holds(trained):
    image, valid, *_ = _inputs(3, 0.4)
    poisoned = torch.where(valid > 0.5, image, torch.full_like(image, float("nan")))
    serving = ServingUNet.from_generator(trained)
    with torch.inference_mode():
        assert torch.equal(serving(image, valid), serving(poisoned, valid))


def test_serving_copy_leaves_the_trained_module_alone(trained):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    ServingUNet.from_generator(trained)
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())
    assert not trained.training


def test_engine_serves_the_folded_network_with_the_same_pixels(trained):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    hole = np.zeros((256, 256), bool)
    hole[90:170, 70:190] = True
    sketch = np.zeros_like(hole)
    sketch[130, 80:180] = True
    inputs = FrameInputs(image, hole, sketch, level=0.2)
    fast, plain = PConvEngine(trained, "t"), PConvEngine(trained, "t", serving=False)
    assert isinstance(fast.network, ServingUNet) and plain.network is plain.model
    a, b = fast.predict(inputs), plain.predict(inputs)
    assert np.array_equal(a[~hole], image[~hole])  # known pixels are the input's, exactly
    difference = np.abs(a.astype(int) - b.astype(int))
    assert difference.max() <= 1 and (difference == 0).mean() > 0.999  # only rounding at .5 may differ


@pytest.mark.parametrize("hole", ["mouth", "corner", "edge strip", "two holes", "everything"])
def test_hole_only_decoding_gives_the_same_prediction_in_the_hole(trained, hole):
    image, _, sketch, color, color_mask = _inputs(7, 0.3)
    valid = torch.ones(2, 1, 256, 256)
    if hole == "mouth":
        valid[0, :, 150:190, 90:171] = 0
        valid[1, :, 101:140, 33:77] = 0  # odd edges: the boxes are grown to even lines
    elif hole == "corner":
        valid[:, :, :37, 219:] = 0
    elif hole == "edge strip":
        valid[:, :, 250:, :] = 0
    elif hole == "two holes":  # one box spans both, across the batch
        valid[0, :, 20:40, 20:40] = 0
        valid[1, :, 200:230, 180:250] = 0
    else:
        valid[:] = 0
    serving = ServingUNet.from_generator(trained)
    with torch.inference_mode():
        guide = Guide(sketch, color, color_mask, 0.3)
        full = serving(image, valid, guide)
        part = serving(image, valid, guide, hole_only=True)
    in_hole = (valid < 0.5).expand_as(full)
    assert part.shape == full.shape
    assert (part - full).abs()[in_hole].max().item() < 1e-5


def test_hole_only_without_a_hole_predicts_nothing(trained):
    image = torch.zeros(1, 3, 256, 256)
    with torch.inference_mode():
        out = ServingUNet.from_generator(trained)(image, torch.ones(1, 1, 256, 256), hole_only=True)
    assert out.shape == (1, 3, 256, 256) and not out.any()
