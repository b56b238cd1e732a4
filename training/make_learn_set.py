"""Write the Learn tab's held-out drawings: what a model trained in the app is measured on besides MNIST.

    python -m training.make_learn_set      # learn/drawings.npz: 400 28x28s, 40 of each digit, 0.1 MB

Drawn digits by pendigits writers 25-30 (never trained on), on canvases from the evaluation's
distribution (training/eval_sets.py), through `preprocess`, as the app reads a drawing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from digitdraw.preprocessing import preprocess
from training import synth
from training.eval_sets import EVAL_CANVAS, held_out_pen

OUT = Path(__file__).resolve().parent.parent / "learn" / "drawings.npz"
PER_DIGIT = 40
SEED = 2026


def main() -> None:
    rng = np.random.default_rng(SEED)
    digits, labels = [], []
    for label in range(10):
        pool = [d for d in held_out_pen() if d.label == label]
        for index in rng.choice(len(pool), PER_DIGIT, replace=False):
            style = dataclasses.replace(EVAL_CANVAS.sample(rng), stray=False)  # the digit alone
            digits.append(preprocess(synth.render_canvas(pool[int(index)], style)))
            labels.append(label)
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, x=(np.stack(digits) * 255).round().astype(np.uint8), y=np.array(labels, np.int64))
    print(f"wrote {OUT}: {len(labels)} drawings")


if __name__ == "__main__":
    main()
