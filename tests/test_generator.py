"""The generator and discriminator: shapes, sizes, and the properties the editor relies on."""
import pytest
import torch
import torch.nn.functional as F

from inpaint import GeneratorConfig, Guide, SketchPConvUNet, composite
from inpaint.generator import count_parameters, upsample_masked

SMALL = GeneratorConfig(width=0.5)


@pytest.fixture(scope="module", params=["nearest", "bilinear"])
def small_model(request):
    torch.manual_seed(0)
    model = SketchPConvUNet(GeneratorConfig(width=0.5, upsample=request.param))
    # random BN statistics, so that eval mode is not a near-identity
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def _batch(size=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, size, size, generator=g) * 2 - 1
    valid = torch.ones(2, 1, size, size)
    valid[:, :, size // 4 : size // 2, size // 3 : 2 * size // 3] = 0
    return image, valid


def test_sizes_of_small_and_paper_models():
    small = count_parameters(SketchPConvUNet(SMALL))
    paper = count_parameters(SketchPConvUNet(GeneratorConfig(width=1.0)))
    assert 5e6 <= small <= 10e6
    assert 25e6 <= paper <= 35e6


@pytest.mark.parametrize("resolution,layers", [(256, 7), (512, 8), (128, 6)])
def test_output_shape(resolution, layers):
    model = SketchPConvUNet(GeneratorConfig(width=0.125, layer_size=layers, resolution=resolution)).eval()
    image, valid = _batch(resolution)
    with torch.no_grad():
        assert model(image, valid).shape == image.shape


def test_prediction_does_not_depend_on_hole_values(small_model):
    image, valid = _batch()
    sketch = torch.zeros_like(valid)
    sketch[:, :, 80:100, 90:160] = 1
    with torch.no_grad():
        out = small_model(image, valid, Guide(sketch))
        noise = torch.where(valid > 0, image, torch.randn_like(image) * 50)
        assert torch.equal(out, small_model(noise, valid, Guide(sketch)))


def test_sketch_and_colour_change_the_hole(small_model):
    image, valid = _batch()
    hole = 1 - valid
    sketch = torch.zeros_like(valid)
    sketch[:, :, 90, 90:160] = 1
    color = torch.zeros_like(image)
    color[:, 0] = 1.0
    color_mask = hole.clone()
    with torch.no_grad():
        plain = small_model(image, valid)
        with_sketch = small_model(image, valid, Guide(sketch))
        with_color = small_model(image, valid, Guide(None, color, color_mask))
        loose = small_model(image, valid, Guide(sketch, level=1.0))
    for other in (with_sketch, with_color, loose):
        assert (other - plain).abs()[hole.expand_as(plain) > 0].mean() > 1e-3
    assert not torch.equal(with_sketch, loose)


def test_composite_keeps_known_pixels_exactly():
    image, valid = _batch(64)
    prediction = torch.randn_like(image)
    out = composite(image, valid, prediction)
    assert torch.equal(out[valid.expand_as(out) > 0], image[valid.expand_as(image) > 0])
    assert torch.equal(out[valid.expand_as(out) == 0], prediction[valid.expand_as(out) == 0])


def test_frozen_encoder_bn_keeps_statistics_while_training():
    model = SketchPConvUNet(GeneratorConfig(width=0.125))
    model.freeze_encoder_bn = True
    model.train()
    enc_bn = model.encoder[1].bn
    dec_bn = model.decoder[1].bn
    before_enc, before_dec = enc_bn.running_mean.clone(), dec_bn.running_mean.clone()
    image, valid = _batch()
    model(image, valid).mean().backward()
    assert torch.equal(enc_bn.running_mean, before_enc)
    assert not torch.equal(dec_bn.running_mean, before_dec)
    assert model.encoder[1].conv.weight.grad is not None  # frozen statistics, not frozen weights


def test_batch_of_levels_is_accepted():
    model = SketchPConvUNet(GeneratorConfig(width=0.125)).eval()
    image, valid = _batch()
    with torch.no_grad():
        a = model(image, valid, Guide(level=torch.tensor([0.0, 1.0])))
        b0 = model(image[:1], valid[:1], Guide(level=0.0))
    torch.testing.assert_close(a[:1], b0)


def test_bilinear_step_interpolates_among_valid_pixels_only():
    h = torch.tensor([[[[1.0, 5.0], [3.0, 100.0]]]])
    m = torch.tensor([[[[1.0, 1.0], [1.0, 0.0]]]])
    up, m_up = upsample_masked(h, m, "bilinear")
    assert torch.equal(m_up, F.interpolate(m, scale_factor=2.0, mode="nearest"))
    assert up[0, 0, 0, 0] == 1.0 and (up[0, 0, 2:, 2:] == 0).all()  # a corner copies; the hole stays 0
    # (1, 1) mixes 1, 5, 3 with weights 9, 3, 3 (the hole's 1/16 is dropped, not counted as 0)
    torch.testing.assert_close(up[0, 0, 1, 1], torch.tensor((9 * 1 + 3 * 5 + 3 * 3) / 15))
    flat = torch.full((1, 1, 4, 4), 2.0)
    assert torch.equal(upsample_masked(flat, torch.ones(1, 1, 4, 4), "bilinear")[0], torch.full((1, 1, 8, 8), 2.0))


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="divisible"):
        GeneratorConfig(resolution=200)
    with pytest.raises(ValueError, match="sketch_levels"):
        GeneratorConfig(sketch_levels=9)
    with pytest.raises(ValueError, match="upsample"):
        GeneratorConfig(upsample="bicubic")
