"""Continental handwriting made from real pen strokes: each variant changes what it says it does."""

from __future__ import annotations

import numpy as np
import pytest

from training import continental, data
from training.data import PenDigit

pytestmark = pytest.mark.data


def of_class(digits: list[PenDigit], label: int) -> list[PenDigit]:
    return [d for d in digits if d.label == label]


def extent(strokes) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(strokes)
    return points.min(axis=0), points.max(axis=0)


def test_a_flagged_one_has_a_long_flag_down_to_the_left_of_its_top(held_out_digits):
    for i, one in enumerate(of_class(held_out_digits, 1)):
        strokes = continental.flagged_one(one, np.random.default_rng(i))
        stem = strokes[0]
        top = stem[int(np.argmin(stem[:, 1]))]
        height = np.ptp(np.concatenate(strokes)[:, 1])
        start = stem[0]  # the pen starts at the flag's end
        assert start[0] < top[0] and start[1] > top[1]  # left of the top, and below it
        assert np.hypot(*(start - top)) >= 0.19 * height
        assert len(strokes) in (1, 2)  # the stem with its flag, and maybe a foot


def test_some_flagged_ones_have_a_foot_across_their_bottom(held_out_digits):
    feet = [strokes[1] for i, one in enumerate(of_class(held_out_digits, 1))
            if len(strokes := continental.flagged_one(one, np.random.default_rng(i))) == 2]
    assert feet
    for foot in feet:
        assert np.ptp(foot[:, 1]) < 1e-3 and np.ptp(foot[:, 0]) > 0  # level, across


def is_crossed(seven: PenDigit) -> bool:
    height = np.ptp(np.concatenate(seven.strokes)[:, 1])
    return len(seven.strokes) > 1 and min(np.ptp(s[:, 1]) for s in seven.strokes) < 0.2 * height


def test_a_crossed_seven_gets_a_short_bar_across_its_stem():
    sevens = [d for d in data.pendigits_for(data.TEST_WRITERS) if d.label == 7 and not is_crossed(d)]
    assert len(sevens) > 20  # most of these writers cross their 7s already: those are left as they are
    for i, seven in enumerate(sevens):
        strokes = continental.crossed_seven(seven, np.random.default_rng(i))
        assert len(strokes) == len(seven.strokes) + 1
        bar = strokes[-1]
        low, high = extent(seven.strokes)
        middle = (bar[:, 1].mean() - low[1]) / (high[1] - low[1])
        assert 0.3 <= middle <= 0.7  # about half way down
        assert np.ptp(bar[:, 0]) < (high[1] - low[1])  # shorter than the digit is tall


def test_a_seven_crossed_already_is_left_as_it_is():
    seven = next(d for d in data.pendigits_for(data.TEST_WRITERS) if d.label == 7 and is_crossed(d))
    strokes = continental.crossed_seven(seven, np.random.default_rng(0))
    assert len(strokes) == len(seven.strokes)


def test_an_open_four_stands_its_left_stroke_upright(held_out_digits):
    fours = [f for f in of_class(held_out_digits, 4) if len(f.strokes) >= 2]
    assert fours
    for i, four in enumerate(fours):
        strokes = continental.open_four(four, np.random.default_rng(i))
        stem = max(range(len(strokes)), key=lambda k: np.ptp(strokes[k][:, 1]))
        for k, (before, after) in enumerate(zip(four.strokes, strokes)):
            if k == stem:
                np.testing.assert_array_equal(before, after)  # the stem is left alone


def test_a_six_with_a_long_stem_is_taller(held_out_digits):
    for i, six in enumerate(of_class(held_out_digits, 6)):
        before, after = extent(six.strokes), extent(continental.long_stem_six(six, np.random.default_rng(i)))
        assert np.ptp(np.stack(after), axis=0).max() >= np.ptp(np.stack(before), axis=0).max()


def test_a_nine_keeps_its_loop_and_changes_its_tail(held_out_digits):
    changed = 0
    for i, nine in enumerate(of_class(held_out_digits, 9)):
        strokes = continental.nine_with_a_tail(nine, np.random.default_rng(i))
        low, high = extent(nine.strokes)
        loop_bottom = low[1] + continental.LOOP_SHARE * (high[1] - low[1])
        old, new = np.concatenate(nine.strokes), np.concatenate(strokes)
        loop = {tuple(p) for p in old[old[:, 1] < loop_bottom].round(3)}
        assert loop <= {tuple(p) for p in new.round(3)}  # every point of the loop is still drawn
        changed += not np.array_equal(old, new)
    assert changed >= len(of_class(held_out_digits, 9)) * 3 // 4


@pytest.mark.parametrize("label", [0, 2, 3, 5, 8])
def test_other_digits_are_written_as_they_were(held_out_digits, label):
    digit = of_class(held_out_digits, label)[0]
    assert continental.continental(digit, np.random.default_rng(0)) is digit


def test_a_variant_keeps_the_label_and_the_writer(held_out_digits):
    for digit in held_out_digits:
        variant = continental.continental(digit, np.random.default_rng(1))
        assert (variant.label, variant.writer) == (digit.label, digit.writer)
        assert all(np.isfinite(s).all() and len(s) for s in variant.strokes)
