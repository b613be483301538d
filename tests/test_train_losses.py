"""Losses: the PConv terms computed exactly on small cases, and where the VGG weights come from."""
import pytest
import torch

from train.config import LossSection
from inpaint import Guide, composite
from train.losses import ReconstructionTerms, VGGFeatures, gram, total_variation
from train.objective import generator_objective


def _terms(loss: ReconstructionTerms, image, valid, pred, truth=None):
    return loss(image, valid, pred, composite(image, valid, pred), truth)


def _batch(image, valid, mismatched=None):
    mismatched = torch.zeros(image.shape[0]) if mismatched is None else mismatched
    return {"image": image, "valid": valid, "guide": Guide(torch.zeros_like(valid)), "mismatched": mismatched}


def test_total_variation_counts_only_pairs_inside_the_dilated_hole():
    comp = torch.zeros(1, 1, 5, 5)
    comp[..., :, 3:] = 1.0  # a vertical step between columns 2 and 3
    hole = torch.zeros(1, 1, 5, 5)
    hole[..., 2, 0] = 1  # dilated: rows 1-3, columns 0-1; the step is outside
    assert total_variation(comp, hole) == 0
    hole[..., 2, 2] = 1  # dilated now reaches columns 1-3 on rows 1-3: three pairs cross the step
    assert total_variation(comp, hole).item() == pytest.approx(3 / 25)


def test_gram_is_normalised_by_chw():
    f = torch.ones(1, 2, 3, 4)
    assert torch.allclose(gram(f), torch.full((1, 2, 2), 12 / 24))


def test_perfect_prediction_costs_nothing_and_l1_terms_are_exact():
    torch.manual_seed(0)
    loss = ReconstructionTerms(VGGFeatures("random"), perceptual_size=32)
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    valid = torch.ones(2, 1, 64, 64)
    valid[..., 10:30, 20:40] = 0
    perfect = image.clone()
    total, terms = generator_objective(LossSection(), _batch(image, valid), perfect, composite(image, valid, perfect),
                                       loss, None)
    # everything but the smoothness prior vanishes
    assert (total - 0.1 * terms["tv"]).item() == pytest.approx(0, abs=1e-6)
    pred = image.clone()
    pred[..., 10:30, 20:40] += 0.5  # wrong only inside the hole
    terms = _terms(loss, image, valid, pred)
    assert terms["valid"].item() == pytest.approx(0, abs=1e-7)
    assert terms["hole"].item() == pytest.approx(0.5 * 20 * 20 / (64 * 64), rel=1e-5)
    assert terms["perceptual"] > 0 and terms["style"] > 0


def test_the_total_adds_every_term_with_its_recipe_weight():
    torch.manual_seed(2)
    loss = ReconstructionTerms(VGGFeatures("random"), perceptual_size=32)
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    valid = torch.ones(1, 1, 32, 32)
    valid[..., 8:20, 8:20] = 0
    pred = image + 0.2 * torch.randn_like(image)
    w = LossSection(valid=2.0, hole=3.0, perceptual=0.5, style=7.0, tv=0.25)
    total, terms = generator_objective(w, _batch(image, valid), pred, composite(image, valid, pred), loss, None)
    want = (2.0 * terms["valid"] + 3.0 * terms["hole"] + 0.5 * terms["perceptual"] + 7.0 * terms["style"]
            + 0.25 * terms["tv"])
    assert total.item() == pytest.approx(want.item(), rel=1e-6)


def test_weights_zero_skip_the_vgg():
    loss = ReconstructionTerms(None)
    terms = _terms(loss, torch.zeros(1, 3, 16, 16), torch.ones(1, 1, 16, 16), torch.zeros(1, 3, 16, 16))
    assert "perceptual" not in terms


def test_hed_backbone_is_used_when_no_imagenet_vgg(monkeypatch, tmp_path):
    import sketch
    from sketch.hed import HED

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # no torchvision weights there
    torch.manual_seed(1)
    hed = HED().eval()
    monkeypatch.setattr(sketch, "load_hed", lambda *a, **k: hed, raising=False)
    features = VGGFeatures("auto")
    assert features.source == "hed" and features.caffe
    assert torch.equal(features.stages[2][2].weight, hed.stages[2][2].weight)
    out = features(torch.zeros(1, 3, 32, 32))
    assert [f.shape[1] for f in out] == [64, 128, 256] and out[2].shape[-1] == 4
    assert not any(p.requires_grad for p in features.parameters())


def test_ema_warm_up_forgets_the_initialisation_quickly():
    from train.state import update_ema

    model, ema = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    torch.nn.init.constant_(model.weight, 1.0)
    torch.nn.init.constant_(ema.weight, 0.0)
    update_ema(ema, model, 0.999, step=0)  # d = 0.1: the first update is mostly the model
    assert torch.allclose(ema.weight, torch.full((2, 2), 0.9))
    for step in range(1, 2000):
        update_ema(ema, model, 0.999, step)
    assert torch.allclose(ema.weight, torch.ones(2, 2), atol=1e-3)


def test_a_sample_without_truth_is_scored_in_its_hole_by_nothing_that_compares_with_the_photo():
    torch.manual_seed(1)
    loss = ReconstructionTerms(VGGFeatures("random"), perceptual_size=32)
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    valid = torch.ones(2, 1, 64, 64)
    valid[..., 10:30, 20:40] = 0
    pred = (image + 0.3 * torch.randn_like(image)).requires_grad_(True)
    terms = _terms(loss, image, valid, pred, truth=torch.tensor([1.0, 0.0]))
    (terms["hole"] + terms["perceptual"] + terms["style"]).backward()
    assert pred.grad[0, :, 10:30, 20:40].abs().sum() > 0
    assert not pred.grad[1].any()  # sample 1's sketch is another face's: its photo is not the answer
    alone = _terms(loss, image[:1], valid[:1], pred[:1].detach())
    for name in ("hole", "perceptual", "style"):  # the mean is over the samples that have a truth
        assert terms[name].item() == pytest.approx(alone[name].item(), rel=1e-4)


def test_line_following_asks_for_a_step_on_the_line_not_ink_along_it():
    from train.losses import line_following

    hole = torch.ones(1, 1, 32, 32)
    line = torch.zeros(1, 1, 32, 32)
    line[..., 16, 4:28] = 1
    weight = torch.ones(1)
    skin = torch.zeros(1, 3, 32, 32)
    step = skin.clone()
    step[..., 16:, :] = -0.8  # lower lip darker than the skin above: the edge lies on the line
    inked = skin.clone()
    inked[..., 16, :] = -0.8  # a 1-px dark stroke along the line
    assert line_following(step, line, hole, weight) < 0.05
    assert line_following(skin, line, hole, weight).item() == pytest.approx(1.0, abs=1e-3)
    assert line_following(inked, line, hole, weight).item() == pytest.approx(1.0, abs=1e-3)
    assert line_following(skin, line, hole, torch.zeros(1)).item() == 0.0  # no sample asks for it


def test_structure_loss_charges_ink_and_blur_but_not_the_truth():
    from train.losses import structure_loss

    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 8:24, 4:28] = 1
    truth = torch.zeros(1, 3, 32, 32)
    truth[..., 16:, :] = -0.5  # an edge: a lower lip darker than the skin above
    weight = torch.ones(1)
    inked = truth.clone()
    inked[..., 15:17, :] = -1.0  # the edge drawn over as a dark stroke
    blurred = torch.nn.functional.avg_pool2d(truth, 5, stride=1, padding=2, count_include_pad=False)
    assert structure_loss(truth, truth, hole, weight).item() == pytest.approx(0.0, abs=1e-6)
    assert structure_loss(inked, truth, hole, weight) > 0.05
    assert structure_loss(blurred, truth, hole, weight) > 0.01
    assert structure_loss(inked, truth, hole, torch.zeros(1)).item() == 0.0  # no sample with a truth


def test_structure_loss_per_colour_channel_charges_a_hue_the_grey_one_misses():
    """The same grey edge in red and in green: identical on grey, a different part in colour."""
    from train.losses import structure_loss

    hole = torch.ones(1, 1, 32, 32)
    red = torch.zeros(1, 3, 32, 32)
    red[:, 0, 16:, :] = 0.8  # a red lower half
    green = red[:, [1, 0, 2]]  # the same edge, green
    weight = torch.ones(1)
    assert structure_loss(green, red, hole, weight).item() == pytest.approx(0.0, abs=1e-6)
    assert structure_loss(green, red, hole, weight, colour=True) > 0.1
    assert structure_loss(red, red, hole, weight, colour=True).item() == pytest.approx(0.0, abs=1e-6)
