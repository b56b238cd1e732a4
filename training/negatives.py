"""Things that are not digits, as pen strokes: what people draw on a digit pad to see what happens
(lines, crosses, stars, shapes, spirals, waves, scribbles, doodles), and Omniglot characters of
eight alphabets, less those that look like digits.

    strokes = shape(kind, rng)              # one of SHAPES, in a 100-unit box, y down
    drawing = as_pen(character_or_strokes)  # a PenDigit labelled NOT_A_DIGIT, for synth's renderers
    python -m training.negatives            # which Omniglot characters the shipped model reads as digits

They are rendered like the digits (synth.render_canvas, synth.random_photo) and trained as an
11th class, "not a digit".
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from training.data import Character, PenDigit, load_omniglot

# The label of the 11th class (the model's classes are "0".."9", then "not a digit").
NOT_A_DIGIT = 10
# Latin letters that are written like digits: o (0), l (1), z (2), s (5), b (6), g and q (9).
LATIN_LOOKALIKES = {"o", "l", "z", "s", "b", "g", "q"}
# Characters the weights of 2026-11-22 (10 classes, trained before this class existed) read as
# one digit at over 99% in at least half of their 20 drawings (`python -m training.negatives`,
# drawings rendered as 400 px canvases): a 4-like cross, a y-like 4, rings like 0, beta, mu, psi,
# Korean letters like 4 and 7, a 5 and a 3. They look like digits to a model trained on digits, so
# they are no negatives. (The seven Latin letters above are found this way too.)
DIGIT_LIKE = {("Early_Aramaic", 1), ("Early_Aramaic", 6), ("Early_Aramaic", 16), ("Greek", 2), ("Greek", 12),
              ("Greek", 15), ("Greek", 23), ("Korean", 10), ("Korean", 11), ("Korean", 12), ("Korean", 22),
              ("Korean", 23), ("Korean", 33), ("Sanskrit", 13), ("Sanskrit", 19), ("Tagalog", 3)}

SHAPES = ("line", "plus", "cross", "star", "asterisk", "triangle", "spiral", "wave", "zigzag", "hash",
          "smiley", "scribble", "house", "sun", "fish", "cat", "eye", "heart", "gem", "arrow", "apple",
          "bicycle", "flower", "tree", "cloud")
# A line more upright than 35 degrees from the vertical is a 1: lines are drawn flatter.
MAX_LINE_TILT = 55.0


def latin_letter(character: int) -> str:
    return chr(ord("a") + character - 1)


def is_negative(character: Character) -> bool:
    """Whether an Omniglot character is safe to train as "not a digit"."""
    if character.alphabet == "Latin" and latin_letter(character.character) in LATIN_LOOKALIKES:
        return False
    return (character.alphabet, character.character) not in DIGIT_LIKE


def as_pen(source: Character | list[np.ndarray], writer: int = 0) -> PenDigit:
    """An Omniglot character or a shape's strokes as a PenDigit labelled NOT_A_DIGIT."""
    if isinstance(source, Character):
        return PenDigit(NOT_A_DIGIT, source.drawer, source.strokes)
    return PenDigit(NOT_A_DIGIT, writer, tuple(np.asarray(s, np.float32) for s in source))


# --------------------------------------------------------------------------- shapes

def _wobble(points: np.ndarray, rng: np.random.Generator, amount: float = 1.2) -> np.ndarray:
    """A hand's tremor: a smooth random offset of about `amount` units."""
    n = len(points)
    offsets = np.cumsum(rng.normal(0, amount / 3, (n, 2)), axis=0)
    offsets -= np.linspace(offsets[0], offsets[-1], n)
    return (points + offsets).astype(np.float32)


def _polyline(vertices: list[tuple[float, float]], per_side: int = 8) -> np.ndarray:
    points = [np.linspace(a, b, per_side, endpoint=False) for a, b in zip(vertices[:-1], vertices[1:])]
    return np.concatenate(points + [np.array([vertices[-1]])])


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, turn: float = 2 * np.pi,
             n: int = 40) -> np.ndarray:
    t = start + np.linspace(0, turn, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _rotate(points: np.ndarray, degrees: float, centre: tuple[float, float] = (50, 50)) -> np.ndarray:
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (points - centre) @ rotation.T + centre


def _star(rng: np.random.Generator) -> list[np.ndarray]:
    points = int(rng.integers(5, 8))
    angles = -np.pi / 2 + np.arange(2 * points + 1) * np.pi / points
    radii = np.where(np.arange(2 * points + 1) % 2, rng.uniform(15, 25), 45)
    return [_polyline(list(zip(50 + radii * np.cos(angles), 50 + radii * np.sin(angles))), 5)]


def _fit_box(path: np.ndarray) -> np.ndarray:
    """A path scaled and moved to fill the 100-unit box (5-unit margins), its aspect kept."""
    low, high = path.min(axis=0), path.max(axis=0)
    return 5 + 90 * (path - low) / max(float((high - low).max()), 1e-6)


def _tangle(rng: np.random.Generator) -> np.ndarray:
    """A hand going back and forth over an area: loops at a few random frequencies, drifting."""
    t = np.linspace(0, 1, int(rng.integers(80, 200)))
    loops = rng.uniform(3, 12, 2)
    x = np.sin(2 * np.pi * loops[0] * t + rng.uniform(0, 6)) * rng.uniform(15, 35)
    y = np.sin(2 * np.pi * loops[1] * t + rng.uniform(0, 6)) * rng.uniform(15, 35)
    return np.stack([x, y], axis=1) + np.cumsum(rng.normal(0, 2.5, (len(t), 2)), axis=0)


def _coil(rng: np.random.Generator) -> np.ndarray:
    """Loop after loop while the hand drifts: a ball of circles, or a spring of them (4 loops or
    more: two stacked loops are an 8, and two or three laps of one are a 0 gone over again)."""
    turns = rng.uniform(4, 10)
    t = np.linspace(0, 2 * np.pi * turns, int(24 * turns))
    radius = rng.uniform(15, 30) * (1 + 0.25 * np.sin(t / turns * rng.uniform(1, 3)))
    heading = rng.uniform(0, 2 * np.pi)
    drift = rng.uniform(0, 1.2) * radius[0] * turns * np.array([np.cos(heading), np.sin(heading)])
    squash = rng.uniform(0.4, 1.0)
    loops = np.stack([radius * np.cos(t), squash * radius * np.sin(t)], axis=1)
    return loops + np.outer(t / t[-1], drift) + np.cumsum(rng.normal(0, 1.0, loops.shape), axis=0)


def _hatching(rng: np.random.Generator) -> np.ndarray:
    """Back and forth across an area, as one shades it or crosses something out: a zigzag of 5-16
    passes at a random angle."""
    passes = int(rng.integers(5, 17))
    ends = np.where(np.arange(passes + 1) % 2, 1.0, -1.0) * rng.uniform(30, 45) + rng.normal(0, 4, passes + 1)
    across = np.linspace(-40, 40, passes + 1) * rng.uniform(0.3, 1.0) + rng.normal(0, 2, passes + 1)
    path = _polyline(list(zip(ends, across)), 6)
    return _rotate(path + 50, rng.uniform(0, 180)) - 50


# A scribble is drawn one of these ways, each as often.
SCRIBBLES = (_tangle, _coil, _hatching)


def _scribble(rng: np.random.Generator) -> list[np.ndarray]:
    return [_fit_box(SCRIBBLES[int(rng.integers(len(SCRIBBLES)))](rng))]


def shape(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes of one drawing of `kind` (see SHAPES), jittered, in a 100-unit box, y down."""
    u = rng.uniform
    if kind == "line":
        angle = np.radians(u(-MAX_LINE_TILT, MAX_LINE_TILT))
        end = 45 * np.array([np.cos(angle), np.sin(angle)])
        strokes = [_polyline([tuple(50 - end), tuple(50 + end)], 20)]
    elif kind == "plus":
        strokes = [_rotate(_polyline([(5, u(40, 60)), (95, u(40, 60))]), u(-15, 15)),
                   _rotate(_polyline([(u(40, 60), 5), (u(40, 60), 95)]), u(-15, 15))]
    elif kind == "cross":
        tilt = u(-15, 15)
        strokes = [_rotate(_polyline([(10, 10), (90, 90)]), tilt), _rotate(_polyline([(90, 10), (10, 90)]), tilt)]
    elif kind == "star":
        strokes = _star(rng)
    elif kind == "asterisk":
        arms = int(rng.integers(3, 5))
        strokes = [_rotate(_polyline([(5, 50), (95, 50)]), 180 * k / arms + u(-10, 10)) for k in range(arms)]
    elif kind == "triangle":
        corners = [(u(35, 65), u(0, 15)), (u(85, 100), u(80, 100)), (u(0, 15), u(80, 100))]
        strokes = [_polyline(corners + corners[:1])]
    elif kind == "spiral":
        t = np.linspace(0, 2 * np.pi * u(2, 4), 120)
        r = 3 + 45 * t / t[-1]
        strokes = [np.stack([50 + r * np.cos(t), 50 + r * np.sin(t) * u(0.7, 1.0)], axis=1)]
    elif kind in ("wave", "zigzag"):
        x = np.linspace(0, 100, 80)
        phase = x / 100 * 2 * np.pi * u(1.5, 4)
        y = np.sin(phase) if kind == "wave" else 2 / np.pi * np.arcsin(np.sin(phase))
        strokes = [np.stack([x, 50 + u(8, 20) * y], axis=1)]
    elif kind == "hash":
        strokes = [_polyline([(5, y), (95, y + u(-5, 5))]) for y in (u(25, 40), u(60, 75))]
        strokes += [_polyline([(x, 5), (x + u(-8, 8), 95)]) for x in (u(25, 40), u(60, 75))]
    elif kind == "smiley":
        strokes = [_ellipse(50, 50, 45, 45), _ellipse(35, 38, 2, 3, n=8), _ellipse(65, 38, 2, 3, n=8),
                   _ellipse(50, 55, 22, 18, start=0.15 * np.pi, turn=0.7 * np.pi, n=20)]
    elif kind == "scribble":
        strokes = _scribble(rng)
    elif kind == "house":
        strokes = [_polyline([(15, 45), (15, 95), (85, 95), (85, 45), (15, 45)]), _polyline([(10, 48), (50, 5), (90, 48)])]
    elif kind == "sun":
        strokes = [_ellipse(50, 50, 22, 22)]
        strokes += [_polyline([(50 + 28 * np.cos(a), 50 + 28 * np.sin(a)), (50 + 45 * np.cos(a), 50 + 45 * np.sin(a))], 4)
                    for a in np.linspace(0, 2 * np.pi, int(rng.integers(6, 11)), endpoint=False)]
    elif kind == "fish":
        strokes = [_ellipse(40, 50, 35, 20), _polyline([(72, 50), (98, 30), (98, 70), (72, 50)]), _ellipse(20, 45, 2, 2, n=8)]
    elif kind == "cat":
        strokes = [_ellipse(50, 60, 35, 30), _polyline([(22, 42), (25, 5), (45, 31)]), _polyline([(55, 31), (75, 5), (78, 42)])]
        strokes += [_polyline([(45, 68), (5, y)], 4) for y in (60, 72)] + [_polyline([(55, 68), (95, y)], 4) for y in (60, 72)]
    elif kind == "eye":
        strokes = [_ellipse(50, 50, 48, 22, start=np.pi, turn=np.pi, n=25), _ellipse(50, 50, 48, 22, start=0, turn=np.pi, n=25),
                   _ellipse(50, 50, 14, 14, n=25)]
    elif kind == "heart":
        t = np.linspace(0, 2 * np.pi, 60)
        strokes = [np.stack([50 + 40 * np.sin(t) ** 3,
                             45 - 3 * (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))], axis=1)]
    elif kind == "gem":
        strokes = [_polyline([(25, 15), (75, 15), (95, 40), (50, 95), (5, 40), (25, 15)]), _polyline([(5, 40), (95, 40)])]
    elif kind == "arrow":
        strokes = [_polyline([(5, 50), (95, 50)], 16), _polyline([(70, 25), (95, 50), (70, 75)])]
    elif kind == "apple":
        strokes = [_ellipse(50, 60, 40, 35), _polyline([(50, 25), (55, 5)], 4), _ellipse(65, 12, 10, 5, n=16)]
    elif kind == "bicycle":
        strokes = [_ellipse(22, 70, 20, 20), _ellipse(78, 70, 20, 20),
                   _polyline([(22, 70), (42, 40), (70, 40), (78, 70)]), _polyline([(42, 40), (50, 70), (70, 40)])]
    elif kind == "flower":
        strokes = [_ellipse(50, 35, 10, 10)]
        strokes += [_ellipse(50 + 20 * np.cos(a), 35 + 20 * np.sin(a), 9, 9, n=20)
                    for a in np.linspace(0, 2 * np.pi, int(rng.integers(5, 8)), endpoint=False)]
        strokes += [_polyline([(50, 55), (50, 100)], 8)]
    elif kind == "tree":
        strokes = [_polyline([(45, 100), (45, 60)]), _polyline([(55, 100), (55, 60)]), _ellipse(50, 35, 35, 30)]
    elif kind == "cloud":
        strokes = [np.concatenate([_ellipse(25 + 25 * k, 50 - 8 * (k % 2), 16, 14, start=np.pi, turn=np.pi, n=15)
                                   for k in range(3)] + [_polyline([(91, 50), (9, 50)], 12)])]
    else:
        raise ValueError(f"unknown shape {kind!r}")
    return [_wobble(np.asarray(s, np.float64), rng) for s in strokes]


def random_shape(rng: np.random.Generator, writer: int = 0) -> PenDigit:
    """A drawing of a random one of SHAPES, as a PenDigit labelled NOT_A_DIGIT."""
    return as_pen(shape(SHAPES[int(rng.integers(len(SHAPES)))], rng), writer)


def random_scribble(rng: np.random.Generator, writer: int = 0) -> PenDigit:
    """A scribble (one of SCRIBBLES), as a PenDigit labelled NOT_A_DIGIT."""
    return as_pen(shape("scribble", rng), writer)


# --------------------------------------------------------------------------- look-alikes

def digit_like_characters(share: float = 0.5, sure: float = 0.99) -> list[tuple[str, int, float]]:
    """Omniglot characters that the shipped model reads as one digit at over `sure` in at least
    `share` of their drawings: (alphabet, character, share)."""
    from digitdraw.errors import NoDigitError
    from digitdraw.inference import load_classifier
    from digitdraw.preprocessing import preprocess
    from training import synth

    style = synth.CanvasStyle(400, 240, (200, 200), 12, 0.0, False)
    counts: Counter = Counter()
    for character in load_omniglot():
        try:
            digit = preprocess(synth.render_canvas(as_pen(character), style))
        except NoDigitError:
            continue
        top = load_classifier()(digit[None])[0][:10]
        counts[character.alphabet, character.character, int(top.argmax())] += bool(top.max() > sure)
    drawers = Counter((c.alphabet, c.character) for c in load_omniglot())
    best: dict[tuple[str, int], float] = {}
    for (alphabet, character, _), n in counts.items():
        best[alphabet, character] = max(best.get((alphabet, character), 0.0), n / drawers[alphabet, character])
    return sorted((a, c, s) for (a, c), s in best.items() if s >= share)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--share", type=float, default=0.5, help="share of a character's drawings read surely")
    args = parser.parse_args(argv)
    for alphabet, character, share in digit_like_characters(args.share):
        print(f"{alphabet} character{character:02d}: {share:.0%} of its drawings read as one digit at over 99%")


if __name__ == "__main__":
    main()
