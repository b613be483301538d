"""The patch discriminator and its mask-aware losses."""
import pytest
import torch

from train.adversarial import R1, discriminator_terms, generator_terms, hole_fraction
from train.discriminator import STRIDE, PatchDiscriminator, receptive_field


def _inputs(size=64):
    torch.manual_seed(0)
    image = torch.rand(2, 3, size, size) * 2 - 1
    hole = torch.zeros(2, 1, size, size)
    return image, hole, torch.zeros_like(hole)


def test_each_score_sees_a_54_pixel_patch():
    disc = PatchDiscriminator(width=0.125)
    assert receptive_field() == 54
    image, hole, sketch = _inputs(128)
    image.requires_grad_(True)
    scores, features = disc(image, hole, sketch)
    assert scores.shape == (2, 1, 128 // STRIDE, 128 // STRIDE) and len(features) == 4
    scores[0, 0, 8, 8].backward()
    seen = image.grad[0].abs().sum(0) > 0
    rows, cols = seen.any(1).nonzero(), seen.any(0).nonzero()
    assert int(rows.max() - rows.min()) + 1 <= 54 and int(cols.max() - cols.min()) + 1 <= 54
    assert not image.grad[1].any()  # one sample's score never sees another sample


def test_only_the_hole_is_fake():
    disc = PatchDiscriminator(width=0.125)
    image, hole, sketch = _inputs()
    weights = R1(gamma=0.0)
    no_hole = discriminator_terms(disc, image, image, hole, sketch, weights, step=1)
    # with nothing generated the composite is all real: its term is the real one
    assert no_hole["d_fake"].item() == pytest.approx(no_hole["d_real"].item(), rel=1e-5)
    hole[:, :, :16, :16] = 1
    assert hole_fraction(hole, torch.zeros(2, 1, 8, 8))[0, 0, 0, 0] == 1
    assert hole_fraction(hole, torch.zeros(2, 1, 8, 8))[0, 0, 7, 7] == 0


def test_the_generator_is_pushed_only_where_it_drew():
    disc = PatchDiscriminator(width=0.125)
    image, hole, sketch = _inputs(128)
    hole[:, :, :16, :16] = 1
    comp = image.clone().requires_grad_(True)
    terms = generator_terms(disc, comp, image, hole, sketch)
    terms["g_adv"].backward()
    assert comp.grad[..., :16, :16].abs().sum() > 0
    assert not comp.grad[..., 80:, 80:].any()  # beyond the receptive field of any hole patch
    assert terms["feature_matching"].item() == 0.0  # the composite is the real image here


def test_r1_runs_lazily_and_penalises_the_real_gradient():
    disc = PatchDiscriminator(width=0.125)
    image, hole, sketch = _inputs()
    weights = R1(gamma=1.0, every=4)
    assert discriminator_terms(disc, image, image, hole, sketch, weights, step=1)["r1"].item() == 0.0
    terms = discriminator_terms(disc, image, image, hole, sketch, weights, step=4)
    assert terms["r1"].item() > 0
    terms["d_total"].backward()
    assert all(p.grad is not None for p in disc.parameters())


def test_inked_fakes_paint_the_sketch_dark_inside_the_hole_only():
    from train.adversarial import paint_ink

    image = torch.full((2, 3, 64, 64), 0.6)
    hole = torch.zeros(2, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    sketch = torch.zeros_like(hole)
    sketch[..., 32, 8:56] = 1  # a line crossing the hole's edge
    inked = paint_ink(image, hole, sketch, torch.Generator().manual_seed(0))
    changed = (inked != image).any(1, keepdim=True)
    assert changed[..., 32, 20:44].all() and changed[..., 31, 20:44].all()  # soft strokes ~3 px wide
    assert not (changed & (hole == 0)).any() and not changed[..., 40, :].any()
    assert (inked[..., 32, 20:44] < image[..., 32, 20:44] - 0.5).all()  # dark


def test_inked_fakes_add_a_discriminator_term_only_with_lines_in_the_hole():
    disc = PatchDiscriminator(width=0.125)
    image, hole, sketch = _inputs()
    weights = R1(gamma=0.0)
    hole[..., 16:48, 16:48] = 1
    plain = discriminator_terms(disc, image, image, hole, sketch, weights, step=1, inked_fakes=1.0)
    assert plain["d_inked"].item() == 0.0  # no sketch: nothing to ink
    sketch[..., 30:33, 10:54] = 1
    terms = discriminator_terms(disc, image, image, hole, sketch, weights, step=1, inked_fakes=0.5)
    assert terms["d_inked"].item() > 0
    assert terms["d_total"].item() == pytest.approx(
        (terms["d_real"] + terms["d_fake"] + terms["r1"] + 0.5 * terms["d_inked"]).item(), rel=1e-6)
    terms["d_total"].backward()  # the term trains the discriminator
    assert disc.score.weight.grad.abs().sum() > 0
