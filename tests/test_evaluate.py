"""The evaluation's own measures: ink off the canvas, confidence intervals, calibration error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from training import synth
from training.eval_sets import cut_bin, ink_off_canvas
from training.metrics import Results, expected_calibration_error, wilson_interval


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


def test_the_model_cards_pictures_are_drawn_from_a_report(tmp_path):
    from training import plots

    def one_set(accuracy: float) -> dict:
        matrix = np.eye(10) * 50 + 1
        return {"n": 500, "accuracy": accuracy, "low": accuracy - 0.02, "high": min(1.0, accuracy + 0.01), "ece": 0.01,
                "per_class": [accuracy] * 10, "confusion": matrix.tolist(),
                "conditions": {"canvas 280-450 px": {"n": 100, "accuracy": accuracy, "low": 0.9, "high": 1.0}},
                "reliability": [{"confidence": 0.5, "accuracy": 0.45, "share": 0.1},
                                {"confidence": 0.99, "accuracy": 0.98, "share": 0.9}]}
    report = {"sets": {"drawn digits": one_set(0.98), "scans": one_set(0.97), "photos": one_set(0.96)},
              "numbers": {"drawn, ordinary": {"exact": 0.95, "low": 0.92, "high": 0.97}}}
    path = tmp_path / "evaluate.json"
    path.write_text(json.dumps(report))
    plots.main([str(path), "--out", str(tmp_path / "model")])
    drawn = sorted(p.name for p in (tmp_path / "model").glob("*.png"))
    assert drawn == ["conditions.png", "confusion.png", "per_class.png", "reliability.png"]
    assert all(Image.open(tmp_path / "model" / name).size[0] >= 400 for name in drawn)
