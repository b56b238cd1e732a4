"""Things that are not digits: the shapes people draw, Omniglot's characters, and what is left out."""

from __future__ import annotations

import numpy as np
import pytest

from training import data, negatives, synth


@pytest.mark.parametrize("kind", negatives.SHAPES)
def test_every_shape_is_strokes_in_its_box(kind):
    for seed in range(5):
        strokes = negatives.shape(kind, np.random.default_rng(seed))
        points = np.concatenate(strokes)
        assert strokes and all(len(s) >= 2 for s in strokes) and np.isfinite(points).all()
        assert points.min() > -20 and points.max() < 120  # a 100-unit box, and a hand's tremor
        drawing = synth.render_canvas(negatives.as_pen(strokes), synth.CanvasStyle(200, 150, (100, 100), 6, 0.0, False))
        assert (np.asarray(drawing) < 128).sum() > 100  # it draws something


def test_a_line_is_never_upright_enough_to_be_a_one():
    for seed in range(200):
        (line,) = negatives.shape("line", np.random.default_rng(seed))
        dx, dy = np.abs(line[-1] - line[0])
        assert np.degrees(np.arctan2(dy, dx)) <= negatives.MAX_LINE_TILT + 5  # the tremor adds a little


def test_a_random_shape_is_labelled_not_a_digit():
    rng = np.random.default_rng(0)
    kinds = [negatives.random_shape(rng) for _ in range(50)]
    assert all(pen.label == negatives.NOT_A_DIGIT == 10 for pen in kinds)


@pytest.mark.data
def test_omniglot_characters_that_look_like_digits_are_no_negatives():
    characters = data.load_omniglot()
    latin = {c.character for c in characters if c.alphabet == "Latin" and not negatives.is_negative(c)}
    assert {negatives.latin_letter(c) for c in latin} == negatives.LATIN_LOOKALIKES
    kept = [c for c in characters if negatives.is_negative(c)]
    assert not [c for c in kept if (c.alphabet, c.character) in negatives.DIGIT_LIKE]
    assert len({(c.alphabet, c.character) for c in kept}) == 242 - 7 - len(negatives.DIGIT_LIKE)


@pytest.mark.data
def test_omniglot_is_read_once_with_its_drawers():
    characters = data.load_omniglot()
    assert len(characters) == 4840  # 242 characters of 8 alphabets by 20 drawers; Latin and Greek are in both zips
    assert len({c.alphabet for c in characters}) == 8
    assert {c.drawer for c in characters} == set(range(1, 21))
    splits = {name: set(drawers) for name, drawers in data.OMNIGLOT_SPLITS.items()}
    assert not (splits["train"] & splits["test"]) and not (splits["calibration"] & splits["test"])
    one = characters[0]
    assert np.ptp(np.concatenate(one.strokes)[:, 1]) > 0  # strokes, y pointing down


@pytest.mark.data
def test_optdigits_bitmaps_and_their_splits():
    train, calibration, test = (data.load_optdigits(split) for split in ("train", "calibration", "test"))
    assert len(train[1]) + len(calibration[1]) == 1934 and len(test[1]) == 946
    for bitmaps, labels in (train, calibration, test):
        assert bitmaps.shape[1:] == (32, 32) and set(np.unique(bitmaps)) <= {0.0, 1.0}
        assert set(labels) == set(range(10))
