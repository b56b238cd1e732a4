"""The evaluation's own measures: ink off the canvas, confidence intervals, calibration error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from digitdraw.model import Contract
from digitdraw.reading import retraced
from training import report, synth
from training.eval_sets import EVAL_CANVAS, PEN_OVER_ITSELF, SCRIBBLES, cut_bin, ink_off_canvas, render_job, run_set
from training.metrics import Results, confusion_matrix, expected_calibration_error, wilson_interval


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


def test_held_out_writers_never_draw_a_digit_over_itself(held_out_digits):
    rng = np.random.default_rng(0)
    for digit in held_out_digits:
        style = EVAL_CANVAS.sample(rng)
        strokes = synth.place_strokes(digit, style.height, style.center, style.slant)
        assert not retraced(strokes, np.ones((style.size, style.size), bool))


def test_a_drawn_tangle_is_never_counted_as_a_sure_digit_as_the_app_never_shows_it_so():
    jobs = [("scribble", i, 32, "drawn") for i in (12, 100, 731, 793)]  # tangles: their pen goes over itself
    assert all(PEN_OVER_ITSELF in render_job(job)[1] for job in jobs)
    results = run_set(jobs, workers=1)
    assert results.groups[PEN_OVER_ITSELF] == [0, 1, 2, 3] and not any(results.sure)


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


def test_a_0_that_no_digit_was_read_in_is_read_wrong():
    results = Results()
    results.add(0, np.full(10, np.nan), refused=True)  # refused: a NaN row, whose argmax is 0
    results.add(0, np.eye(10)[0])
    assert results.correct().tolist() == [False, True]
    assert results.summary()["accuracy"] == 0.5
    assert confusion_matrix(results)[0].tolist() == [1] + [0] * 9 + [1]


def one_set(accuracy: float, refused: int = 0) -> dict:
    """A set as metrics.describe reports it."""
    matrix = np.eye(10, 11) * 50 + 1
    return {"n": 500, "accuracy": accuracy, "low": accuracy - 0.02, "high": min(1.0, accuracy + 0.01), "ece": 0.01,
            "no_digit_found": 1, "not_a_digit": refused,
            "per_class": [{"accuracy": accuracy, "n": 50, "low": accuracy - 0.05, "high": 1.0}] * 10,
            "confusion": matrix.tolist(), "conditions": {"canvas 280-450 px": {"n": 100, "accuracy": accuracy,
                                                                              "low": 0.9, "high": 1.0}},
            "reliability": [{"confidence": 0.5, "accuracy": 0.45, "share": 0.1},
                            {"confidence": 0.99, "accuracy": 0.98, "share": 0.9}]}


def a_report(accuracy: float = 0.995, refused: int = 0) -> dict:
    sets = ["drawn digits", "tight drawings", "scans", "photos", "pencil", "ruled paper"]
    populations = ["MNIST test (US), drawn large", "USPS (US), scanned", "pendigits writers 25-30 (Istanbul), drawn",
                   report.CONTINENTAL]
    return {"mnist_test": 0.997, "sets": {name: one_set(accuracy, refused) for name in sets},
            "populations": {name: one_set(accuracy) for name in populations},
            "non_digits": {name: {"n": 2000, "share": 0.95, "low": 0.94, "high": 0.96, "conditions": {},
                                  "refused_by_the_model": 1800, "read_as": {"8": 60, "0": 40},
                                  "shown_as_sure": {"n": 2000, "share": 0.0, "low": 0.0, "high": 0.002}}
                           for name in ("shapes", SCRIBBLES)},
            "rejection": {"canvas": 1.0, "paper": 0.99, "noise": 0.98},
            "numbers": {"drawn, ordinary": {"n": 300, "exact": 0.95, "low": 0.92, "high": 0.97,
                                            "by_length": {"2": {"exact": 0.95}}, "digit_error_rate": 0.01,
                                            "segmentation_errors": {"merged": 0, "split": 1, "missed": 0, "extra": 0}}}}


def test_the_model_cards_targets_are_checked_against_the_report():
    met = {target: ok for target, _, ok in report.targets(a_report())}
    assert all(met.values()), met
    met = {target: ok for target, _, ok in report.targets(a_report(accuracy=0.95, refused=5))}
    assert not met["every writer population >= 98%"] and not met["no class under 96% in any population"]
    assert not met["real digits refused <= 0.5% on every digit set"]  # 5 of 500 is 1%
    scribbled = a_report()
    scribbled["non_digits"][SCRIBBLES]["shown_as_sure"].update(share=0.0005, high=0.003)
    met = {target: ok for target, measured, ok in report.targets(scribbled)}
    assert not met["scribbles never shown as a sure digit"] and met["not digits rejected >= 90%: " + SCRIBBLES]


def test_the_model_card_says_which_targets_are_not_met():
    contract = Contract(preprocessing_version="3", temperature=1.2, command="python -m training.train", date="2026-12-01")
    card = report.model_card(a_report(accuracy=0.95), contract)
    assert "**no**" in card and "Not met: every writer population >= 98%" in card
    assert "## Writer populations" in card and "## Not a digit" in card and "| shapes | 2000 | 95.00%" in card


def test_the_model_cards_pictures_are_drawn_from_a_report(tmp_path):
    from training import plots

    path = tmp_path / "evaluate.json"
    path.write_text(json.dumps(a_report()))
    plots.main([str(path), "--out", str(tmp_path / "model")])
    drawn = sorted(p.name for p in (tmp_path / "model").glob("*.png"))
    assert drawn == sorted(f"{name}{suffix}.png" for name in plots.PLOTS for suffix in ("", "-dark"))
    for name in drawn:
        picture = Image.open(tmp_path / "model" / name).convert("RGB")
        assert picture.size[0] == int(plots.WIDTH * plots.DPI)
        corner = picture.getpixel((2, 2))
        assert corner == ((11, 15, 25) if name.endswith("-dark.png") else (255, 255, 255))  # the page's colour


def test_the_reliability_picture_pools_every_digit_sets_answers_bin_by_bin():
    from training.plots import pooled_reliability

    report_ = a_report()  # 10 sets of 500, 1 not found each: 499 answers, 10% at 0.5 (45% right), 90% at 0.99
    bins = pooled_reliability(report_)
    assert [b["n"] for b in bins] == [round(10 * 499 * 0.1), round(10 * 499 * 0.9)]
    assert bins[0]["confidence"] == pytest.approx(0.5) and bins[0]["accuracy"] == pytest.approx(0.45)
    assert bins[1]["accuracy"] == pytest.approx(0.98)
