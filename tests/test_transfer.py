"""The sketch- and colour-transfer cases."""
import numpy as np
import pytest

from evaluation.transfer import colour_dabs, colour_move, fit_errors, lip_colour, transfer_case, transfer_scores


def test_a_face_transferred_onto_itself_is_its_own_part(aligned_astronaut):
    image, landmarks, lines = aligned_astronaut
    case = transfer_case(image, landmarks, image, lines, landmarks, "mouth")
    assert case.hole.any() and 0.005 < case.hole.mean() < 0.08
    assert np.array_equal(case.sketch, lines & case.hole)
    assert np.abs(case.ceiling.astype(int) - image).max() <= 1
    scores = transfer_scores(case.ceiling, image, case)
    assert scores["sharpness"] == pytest.approx(1.0, abs=0.02)


def test_the_part_moves_with_the_other_faces_landmarks(aligned_astronaut):
    image, landmarks, lines = aligned_astronaut
    shifted = landmarks + (10.0, 4.0)
    case = transfer_case(image, landmarks, np.roll(image, (4, 10), (0, 1)), np.roll(lines, (4, 10), (0, 1)),
                         shifted, "nose")
    assert np.abs(case.ceiling.astype(int) - image)[case.hole].mean() < 3


def test_colour_move_is_the_fraction_of_the_way(aligned_astronaut):
    image, landmarks, _ = aligned_astronaut
    hole = np.zeros(image.shape[:2], bool)
    hole[150:200, 90:170] = True
    target = np.array([40.0, 170.0, 70.0])
    all_the_way = image.copy()
    all_the_way[hole] = target
    assert colour_move(all_the_way, image, hole, target) == pytest.approx(1.0)
    assert colour_move(image, image, hole, target) == 0.0
    rgb, mask = colour_dabs(hole, target, np.random.default_rng(0))
    assert mask.any() and not (mask & ~hole).any() and (rgb[mask] == (40, 170, 70)).all()
    lips = lip_colour(image, landmarks)
    assert lips[0] > lips[2]  # lips are redder than blue


def test_the_transfer_report_through_the_editor(aligned_astronaut, tmp_path):
    from inpaint import Editor
    from evaluation import transfer_eval

    image, landmarks, lines = aligned_astronaut
    mirrored = np.c_[image.shape[1] - 1 - landmarks[:, 0], landmarks[:, 1]]
    faces = [(image, landmarks, lines), (image[:, ::-1].copy(), mirrored, lines[:, ::-1].copy())]
    results = transfer_eval.run(Editor.telea(256, detail=False), faces)  # the detail step adds grain at 256 px
    assert results["pairs"] == 1
    for part in transfer_eval.EVALUATED_PARTS:
        row = results["summary"]["pair"][part]
        assert row["ceiling_structure"] == pytest.approx(1.0) and row["ceiling_ink"] == 0.0
        assert row["unedited_seam"] == pytest.approx(1.0) and row["unedited_ring"] == 0.0
        # B's own pixels moved in come far closer to B's part than Telea or the lines path
        assert row["transplant_structure"] > max(row["telea_structure"], row["lines_structure"]) + 0.2, part
        assert 0.7 < row["transplant_seam"] < 1.4 and row["transplant_ring"] < 5, part
        own = results["summary"]["self_unmirrored"][part]
        assert own["transplant_structure"] > own["telea_structure"] + 0.2, part
        mirrored = results["summary"]["self"][part]
        assert 0 < mirrored["mirror_structure"] < 1 and mirrored["mirror_seam"] > 1  # her other side, pasted
    colour = results["summary"]["colour"]
    assert set(colour) == {"lip", "green", "lip_network", "green_network"}
    # Telea ignores the dabs (the network-only column), the editor's hint step moves its fill
    assert abs(colour["green_network"]) < 0.1 and colour["green"] > 0.5
    results["protocol"] = {"weights": "telea"}
    transfer_eval.write_markdown(results, tmp_path / "t.md", "telea")
    report = (tmp_path / "t.md").read_text()
    assert "| eyebrows |" in report and "Fit of the eyebrows" in report and "the copy not mirrored" in report
    assert transfer_eval.write_plot(results, tmp_path / "t.png", results).stat().st_size > 10_000


def test_ink_and_structure_tell_a_real_part_from_its_lines_painted_on(aligned_astronaut):
    """Edge F1 rewards ink: the face with the other face's lines painted dark onto it scores
    as well on F1 as the real part, but ink and structure tell them apart."""
    image, landmarks, lines = aligned_astronaut
    mirrored = np.c_[image.shape[1] - 1 - landmarks[:, 0], landmarks[:, 1]]
    case = transfer_case(image, landmarks, image[:, ::-1].copy(), lines[:, ::-1].copy(), mirrored, "mouth")
    real = transfer_scores(case.ceiling, image, case)
    assert real["ink"] == 0.0 and real["structure"] == pytest.approx(1.0)
    import cv2

    smooth = cv2.inpaint(image, case.hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    inked = smooth.copy()
    inked[case.sketch] = (70, 30, 50)
    scores = transfer_scores(inked, image, case)
    assert scores["f1"] > 0.5 * real["f1"]
    assert scores["ink"] > 20 and scores["structure"] < 0.7


def test_a_fit_per_brow_follows_brows_raised_unevenly(aligned_astronaut):
    """B's left brow raised and turned, the right one as A's: one joint fit cannot place both,
    a fit per brow can, in sample and with each landmark held out; for the same face, 0."""
    from inpaint.landmarks import BROW_LEFT

    _, landmarks, _ = aligned_astronaut
    assert all(v == pytest.approx(0, abs=1e-4) for v in fit_errors(landmarks, landmarks, "eyebrows").values())
    other = landmarks.copy()
    brow = other[BROW_LEFT]
    centre = brow.mean(0)
    turn = np.array([[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]])
    other[BROW_LEFT] = (brow - centre) @ turn.T * 1.1 + centre - (0, 8)
    errors = fit_errors(landmarks, other, "eyebrows")
    assert errors["per_group_rms"] == pytest.approx(0, abs=1e-4) and errors["joint_rms"] > 3
    assert errors["per_group_held_out"] < errors["joint_held_out"]
