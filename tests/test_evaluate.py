"""The evaluation's own measures: ink off the canvas, confidence intervals, calibration error."""

from __future__ import annotations

import numpy as np
import pytest

from training import synth
from training.evaluate import Results, cut_bin, expected_calibration_error, ink_off_canvas, wilson_interval


def style_at(center: tuple[float, float], size: int = 400, height: float = 200) -> synth.CanvasStyle:
    return synth.CanvasStyle(size, height, center, 8, 0.0, False)


def test_a_digit_inside_the_canvas_has_no_ink_off(held_out_digits):
    digit = held_out_digits[0]
    assert ink_off_canvas(digit, style_at((200, 200))) == 0
    assert cut_bin(0) == "inside the canvas"


def test_a_digit_centred_on_a_corner_loses_most_of_its_ink(held_out_digits):
    digit = held_out_digits[0]  # a 0: its ink is spread around its centre
    off = ink_off_canvas(digit, style_at((0, 0)))
    assert 0.6 < off < 0.9
    assert cut_bin(off) == "cut at an edge, 15-100% of the ink off"


def test_a_digit_centred_on_an_edge_loses_about_half(held_out_digits):
    off = ink_off_canvas(held_out_digits[0], style_at((200, 0)))
    assert 0.35 < off < 0.65


@pytest.mark.parametrize("correct, n", [(0, 10), (10, 10), (98, 100), (500, 1000)])
def test_wilson_interval_contains_the_estimate_and_stays_in_0_1(correct, n):
    low, high = wilson_interval(correct, n)
    assert 0 <= low <= correct / n <= high <= 1


def test_wilson_interval_narrows_with_more_samples():
    narrow = np.subtract(*wilson_interval(980, 1000)[::-1])
    wide = np.subtract(*wilson_interval(98, 100)[::-1])
    assert narrow < wide / 2


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    results = Results()
    confident = np.array([0.0] * 9 + [1.0])
    for _ in range(10):
        results.add(9, confident)
    assert expected_calibration_error(results) == pytest.approx(0)
    results.add(3, confident)  # wrong at 100% confidence
    assert expected_calibration_error(results) == pytest.approx(1 / 11)
