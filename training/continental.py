"""Digits written the continental way, made from real pen strokes: across Europe, Latin America and
much of Asia a 1 has a long flag and often a foot, a 7 a crossbar or a curved stem, a 4 an open
top, a 9 a straight or curled tail, a 6 a long stem. MNIST and USPS were written in the US.

    variant = continental(digit, rng)     # a PenDigit written the continental way (or as it was)

Each change works on the strokes as a writer would make them (a flag drawn into the stem, a bar
across it), at lengths and angles drawn from ranges wide enough to hold the ambiguous cases: a
flagged 1 and a bar-less 7 can be hard to tell apart, and the model should learn to say so.
"""

from __future__ import annotations

import numpy as np

from training.data import PenDigit

Strokes = list[np.ndarray]

# A 1's flag: from the top of the stem down to the left, 20-50% of the digit's height long ...
FLAG_LENGTH = (0.2, 0.5)
# ... at 25-65 degrees below the horizontal (a 7's bar is about level and as wide as the digit).
FLAG_ANGLE = (25.0, 65.0)
# A foot under a 1, in this share of 1s: a bar 15-35% of the height to each side of the stem.
FOOT_CHANCE = 0.4
FOOT_REACH = (0.15, 0.35)
# A 7's crossbar: across the stem 40-60% of the way down, 12-25% of the height to each side,
# tilted up to 8 degrees.
BAR_HEIGHT = (0.4, 0.6)
BAR_REACH = (0.12, 0.25)
BAR_TILT = 8.0
# A curved stem, in this share of 7s: bowed by 5-15% of the height at its middle, either way.
CURVE_CHANCE = 0.35
CURVE_DEPTH = (0.05, 0.15)
# An open 4: its left stroke turned 60-100% of the way to upright above its bar.
UPRIGHT_SHARE = (0.6, 1.0)
# A 9's tail below 45% of its height, made straight or curled at its end (a hook 6-12% of the
# height across, turned 90-145 degrees).
LOOP_SHARE = 0.45
CURL_RADIUS = (0.06, 0.12)
CURL_TURN = (0.5, 0.8)
# A 6's stem longer by 20-50% of the height, on along the way it started.
STEM_EXTENSION = (0.2, 0.5)
# Points along a drawn segment: as dense as the tablet's samples of a quick stroke.
SEGMENT_POINTS = 12


def _height(strokes: Strokes) -> float:
    points = np.concatenate(strokes)
    return float(max(np.ptp(points[:, 1]), 1.0))


def _segment(start: np.ndarray, end: np.ndarray, bow: float = 0.0) -> np.ndarray:
    """Points from start to end, bowed sideways by `bow` (a share of the length) at the middle."""
    t = np.linspace(0, 1, SEGMENT_POINTS)[:, None]
    line = start + t * (end - start)
    normal = np.array([-(end - start)[1], (end - start)[0]])
    return (line + bow * 4 * t * (1 - t) * normal).astype(np.float32)


def _crossings(strokes: Strokes, y: float) -> list[float]:
    """The x of every place a stroke crosses the row y."""
    found = []
    for stroke in strokes:
        for (x0, y0), (x1, y1) in zip(stroke[:-1], stroke[1:]):
            if (y0 - y) * (y1 - y) <= 0 and y0 != y1:
                found.append(float(x0 + (y - y0) / (y1 - y0) * (x1 - x0)))
    return found


def flagged_one(digit: PenDigit, rng: np.random.Generator) -> Strokes:
    """The 1's stem with a long flag drawn into its top, and sometimes a foot."""
    stem = max(digit.strokes, key=len).copy()
    if np.argmin(stem[:, 1]) > len(stem) / 2:
        stem = stem[::-1]  # drawn from the bottom up
    stem = stem[int(np.argmin(stem[:, 1])):]  # any flag it had is replaced
    h = _height([stem])
    top = stem[0]
    angle = np.radians(rng.uniform(*FLAG_ANGLE))
    length = h * rng.uniform(*FLAG_LENGTH)
    end = top + length * np.array([-np.cos(angle), np.sin(angle)], np.float32)
    strokes = [np.concatenate([_segment(end, top, rng.uniform(-0.1, 0.1)), stem])]
    if rng.random() < FOOT_CHANCE:
        bottom = stem[int(np.argmax(stem[:, 1]))]
        left, right = (h * rng.uniform(*FOOT_REACH) for _ in range(2))
        strokes.append(_segment(bottom + np.array([-left, 0], np.float32), bottom + np.array([right, 0], np.float32)))
    return strokes


def crossed_seven(digit: PenDigit, rng: np.random.Generator) -> Strokes:
    """The 7 with a short bar across its stem (and sometimes the stem bowed); as it was if it has one."""
    strokes = [s.copy() for s in digit.strokes]
    h = _height(strokes)
    top = float(np.concatenate(strokes)[:, 1].min())
    if len(strokes) > 1 and min(np.ptp(s[:, 1]) for s in strokes) < 0.2 * h:
        return strokes  # a short piece apart: it is crossed already
    if rng.random() < CURVE_CHANCE:
        depth = rng.uniform(*CURVE_DEPTH) * h * rng.choice([-1, 1])
        for s in strokes:
            t = np.clip((s[:, 1] - top) / h, 0, 1)
            s[:, 0] += depth * 4 * t * (1 - t) * (t > 0.15)
    y = top + h * rng.uniform(*BAR_HEIGHT)
    across = _crossings(strokes, y)
    if not across:
        return strokes
    x = float(np.median(across))
    tilt = np.radians(rng.uniform(-BAR_TILT, BAR_TILT))
    left, right = (h * rng.uniform(*BAR_REACH) for _ in range(2))
    direction = np.array([np.cos(tilt), -np.sin(tilt)], np.float32)
    centre = np.array([x, y], np.float32)
    return strokes + [_segment(centre - left * direction, centre + right * direction)]


def open_four(digit: PenDigit, rng: np.random.Generator) -> Strokes:
    """The 4 with its left stroke turned upright above the bar, so its top stays open."""
    strokes = [s.copy() for s in digit.strokes]
    if len(strokes) < 2:
        return strokes  # drawn in one stroke: left as it is
    stem = max(range(len(strokes)), key=lambda i: np.ptp(strokes[i][:, 1]))
    for i, s in enumerate(strokes):
        if i == stem:
            continue
        bar = float(s[:, 1].max())
        above = s[:, 1] < bar
        if above.sum() < 3:
            continue
        slope = np.polyfit(s[above, 1], s[above, 0], 1)[0]  # dx per dy of the stroke above its bar
        s[above, 0] += slope * (bar - s[above, 1]) * rng.uniform(*UPRIGHT_SHARE)
    return strokes


def nine_with_a_tail(digit: PenDigit, rng: np.random.Generator) -> Strokes:
    """The 9 with its tail made straight, or curled into a hook at its end."""
    strokes = [s.copy() for s in digit.strokes]
    main = max(range(len(strokes)), key=lambda i: len(strokes[i]))
    s = strokes[main]
    h = _height(strokes)
    loop_bottom = float(np.concatenate(strokes)[:, 1].min()) + LOOP_SHARE * h
    below = s[:, 1] > loop_bottom
    if not below[-1]:
        s, below = s[::-1], below[::-1]  # the tail is at the start
    if not below[-1]:
        return strokes
    start = len(s) - int(np.argmin(below[::-1])) if not below.all() else 0
    if rng.random() < 0.5:
        tail = _segment(s[start - 1] if start else s[0], s[-1])
    else:
        radius = h * rng.uniform(*CURL_RADIUS)
        turn = np.linspace(0, np.pi * rng.uniform(*CURL_TURN), SEGMENT_POINTS)
        hook = s[-1] + radius * np.stack([np.cos(turn) - 1, -np.sin(turn)], axis=1).astype(np.float32)
        tail = np.concatenate([s[start:], hook])
    strokes[main] = np.concatenate([s[:start], tail]).astype(np.float32)
    return strokes


def long_stem_six(digit: PenDigit, rng: np.random.Generator) -> Strokes:
    """The 6 with its stem drawn on past where it started, the way it was heading."""
    strokes = [s.copy() for s in digit.strokes]
    main = max(range(len(strokes)), key=lambda i: len(strokes[i]))
    s = strokes[main]
    if s[-1, 1] < s[0, 1]:
        s = s[::-1]  # the stem's end (its top) first
    lead = s[0] - s[min(4, len(s) - 1)]
    if not np.any(lead):
        return strokes
    direction = lead / np.linalg.norm(lead)
    extension = _segment(s[0] + direction * _height(strokes) * rng.uniform(*STEM_EXTENSION), s[0])
    strokes[main] = np.concatenate([extension, s])
    return strokes


VARIANTS = {1: flagged_one, 4: open_four, 6: long_stem_six, 7: crossed_seven, 9: nine_with_a_tail}


def continental(digit: PenDigit, rng: np.random.Generator) -> PenDigit:
    """The digit written the continental way (the classes VARIANTS has), else as it was."""
    change = VARIANTS.get(digit.label)
    if change is None:
        return digit
    return PenDigit(digit.label, digit.writer, tuple(np.asarray(s, np.float32) for s in change(digit, rng)))
