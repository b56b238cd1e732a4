"""Not a digit: the shipped model says so for doodles, lines, scribbles and letters, and not for digits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from digitdraw import load_classifier, predict, read_number
from digitdraw.answers import digit_answer, recognize_batch, status_line
from digitdraw.errors import NotADigitError
from digitdraw.loading import render_drawing
from digitdraw.reading import NOT_A_NUMBER, RETRACED_PATH, read_number_steps, retraced, retraced_digits, winding
from tests.harness import drawing_of
from tests.images import canvas_of
from training import data, eval_sets, negatives, synth

DRAWN = synth.CanvasStyle(400, 260, (200, 200), 12, 0.0, False)


def drawn(pen: data.PenDigit, style: synth.CanvasStyle = DRAWN) -> Image.Image:
    return synth.render_canvas(pen, style)


def refused(image) -> bool:
    try:
        predict(image)
    except NotADigitError:
        return True
    return False


@pytest.mark.parametrize("kind", ["line", "plus", "cross", "star", "triangle", "spiral", "wave", "hash", "smiley",
                                  "scribble", "cat", "fish", "house"])
def test_what_people_draw_to_see_what_happens_is_not_a_digit(kind):
    drawings = [negatives.as_pen(negatives.shape(kind, np.random.default_rng([99, seed]))) for seed in range(8)]
    assert sum(refused(drawn(d)) for d in drawings) >= 7, kind


def test_a_scribble_is_hardly_ever_shown_as_a_sure_digit():
    scribbles = [drawn(negatives.as_pen(negatives.shape("scribble", np.random.default_rng([7, seed]))))
                 for seed in range(600)]
    answers = recognize_batch(load_classifier(), scribbles, "Draw", False, one_digit=True)
    sure = [seed for seed, answer in enumerate(answers) if answer["digits"] and not answer["digits"][0]["unsure"]]
    # The issue asks for never. The shipped weights show 3 of these 600 tangles, coils and hatchings
    # as a sure digit (an 8, a 0, a 3); the weights before them, which saw 120 scribbles in training
    # instead of 3,120, showed 64 (coils as 8s, hatching as 4s). This keeps it from growing.
    assert len(sure) <= len(scribbles) // 100, sure


def test_a_scribble_on_the_pad_is_shown_unsure_for_going_over_itself():
    # The pad sends its strokes, so what the model cannot see in the pixels, a pen path many times
    # the drawing's size, marks a scribble (reading.RETRACED_PATH), whole or cut into parts. Without
    # it, 2 of these 300 had a sure digit, read as the Draw tab reads them; with it, none (the weights
    # before these, trained on fewer scribbles: 33 and 20).
    scribbles = [drawing_of(negatives.as_pen(negatives.shape("scribble", np.random.default_rng([7, seed]))))
                 for seed in range(300)]
    answers = recognize_batch(load_classifier(), scribbles, "Draw", False)
    sure = [seed for seed, answer in enumerate(answers) if any(not d["unsure"] for d in answer["digits"])]
    assert not sure, sure


def coil(turns: float, radius: float, length: float) -> data.PenDigit:
    """A spring of loops drawn down the pad in one stroke, as a hand doodles one."""
    t = np.linspace(0, 2 * np.pi * turns, int(24 * turns))
    x, y = 200 + radius * np.cos(t), 60 + radius * np.sin(t) + length * t / t[-1]
    return data.PenDigit(0, 0, (np.column_stack([x, y]).astype(np.float32),))


def test_a_fat_coil_on_the_pad_is_shown_unsure_for_winding_round():
    # Drawn fat, a spring's loops merge into one bar: the model sees a fat 1, sure of it, and its pen
    # path is too short for its size to count as gone over (RETRACED_PATH). It winds round 6 times.
    spring = coil(6, 22, 260)
    drawing = drawing_of(spring, brush=40)
    strokes = [np.array(s) for s in drawing["strokes"]]
    length = sum(float(np.linalg.norm(np.diff(s, axis=0), axis=1).sum()) for s in strokes)
    assert length < RETRACED_PATH * 400 * 0.9  # shorter than the path-length rule would catch
    pixels, = recognize_batch(load_classifier(), [render_drawing(drawing)], "Draw", False, one_digit=True)
    assert pixels["digits"] and not pixels["digits"][0]["unsure"]  # the model alone is sure of a digit
    answer, = recognize_batch(load_classifier(), [drawing], "Draw", False, one_digit=True)
    assert all(d["unsure"] for d in answer["digits"])


@pytest.mark.data
@pytest.mark.parametrize("index", [139, 369])
def test_photographed_hatching_as_dense_as_a_blot_is_not_a_digit(index):
    # Wider than the background's window, the blot's middle was taken for paper, and the model read
    # its hollow outline as a sure 5 and a sure 1: the only 2 of the evaluation's 2,000 scribbles
    # shown as a sure digit before the window grew for a sharp edge it kept (ink.EDGE_STEP).
    job = ("scribble", index, 32, "photographed")
    assert refused(eval_sets.render_job(job)[0])


@pytest.mark.parametrize("loops, radius, length", [(1, 90, 0), (2, 90, 10), (2, 45, 90)])
def test_a_digit_gone_round_a_few_times_is_no_coil(loops, radius, length):
    # A 0, a 0 gone over once more, an 8 as two loops turning the same way (the pendigits writers
    # wind round 3.3 times at most): digits, not scribbles.
    stroke = coil(loops, radius, length).strokes[0]
    assert 0.9 * loops <= winding(stroke, np.ones(len(stroke) - 1, bool)) <= 1.1 * loops
    assert not retraced([stroke], np.ones((400, 400), bool))


def test_no_held_out_writers_digit_or_number_goes_over_itself():
    classifier = load_classifier()
    digits = data.pendigits_for(data.TEST_WRITERS)
    rng = np.random.default_rng(0)
    numbers = [synth.lay_out_number([digits[int(i)] for i in rng.choice(len(digits), int(rng.integers(2, 7)))],
                                    rng, gaps) for gaps in ((0.15, 0.5), (0.0, 0.08)) for _ in range(40)]
    drawings = [drawing_of(d) for d in digits[::3]] + [
        {"id": 1, "width": n.size[0], "height": n.size[1], "brush": n.brush, "strokes": [s.tolist() for s in n.strokes]}
        for n in numbers]
    read = 0
    for drawing in drawings:
        try:
            reading = read_number_steps(drawing, classifier)
        except NotADigitError:  # a few of the writers' digits are refused; not what this is about
            continue
        assert not any(retraced_digits(drawing, reading))
        read += 1
    assert read >= len(drawings) - 5


def test_a_line_across_the_pad_is_no_number():
    line = {"id": 1, "width": 800, "height": 300, "brush": 14, "strokes": [[[60, 150], [400, 152], [740, 149]]]}
    with pytest.raises(NotADigitError):
        read_number(line)
    [answer] = recognize_batch(load_classifier(), [line], "Draw", blank_is_empty=True)
    assert answer["status"] == NOT_A_NUMBER == "That doesn't look like a digit or a number." and not answer["digits"]


@pytest.mark.data
def test_a_word_is_no_number():
    letters = {c.character: c for c in data.omniglot_for("test") if c.alphabet == "Latin" and c.drawer == 17}
    word = [negatives.as_pen(letters[ord(ch) - ord("a") + 1]) for ch in "cat"]
    page = synth.render_number_canvas(synth.lay_out_number(word, np.random.default_rng(0), (0.2, 0.4)))
    try:
        digits = read_number_steps(page).digits
    except NotADigitError:
        return
    assert len(digits) <= 1  # at most one letter passes for a digit


@pytest.mark.data
def test_a_star_beside_a_number_is_dropped(held_out_digits):
    one, two = held_out_digits[12], held_out_digits[24]
    star = negatives.as_pen(negatives.shape("star", np.random.default_rng(3)))
    page = synth.render_number_canvas(synth.lay_out_number([one, two, star], np.random.default_rng(1), (0.3, 0.5)))
    reading = read_number_steps(page)
    assert reading.number == "12" and len(reading.dropped) == 1


@pytest.mark.data
def test_the_omniglot_drawers_held_out_are_mostly_not_digits():
    characters = [c for c in data.omniglot_for("test") if negatives.is_negative(c)][::9]
    assert sum(refused(drawn(negatives.as_pen(c))) for c in characters) >= 0.85 * len(characters)


def test_drawn_digits_by_held_out_writers_are_not_refused(held_out_digits):
    assert sum(refused(canvas_of(d, brush=6 + i % 4 * 8)) for i, d in enumerate(held_out_digits)) <= 1


def test_a_digit_the_model_half_thinks_is_no_digit_is_shown_as_unsure():
    sure = np.eye(10)[8] * 0.97 + 0.003
    assert not digit_answer(np.zeros((28, 28)), sure, preview=False)["unsure"]
    maybe = digit_answer(np.zeros((28, 28)), sure, preview=False, not_a_digit=0.26)
    assert maybe["unsure"] and status_line([maybe]) == "Maybe not a digit; if it is, an 8 (97%)."
