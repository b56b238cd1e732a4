"""Write the app's examples: a few real MNIST test digits and photo-like images of held-out writers.

    python -m training.make_examples
"""

from pathlib import Path

import numpy as np
from PIL import Image

from training import data, synth
from training.eval_sets import EVAL_PHOTOS

OUT = Path(__file__).resolve().parent.parent / "examples"
MNIST_TEST_INDICES = (0, 1, 2, 3, 4, 8, 11, 18)  # digits 7 2 1 0 4 5 6 3
PHOTOS = (("blue", True, 40), ("chalk", False, 410), ("pencil", False, 1234))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    images, labels = data.load_mnist("t10k")
    for i in MNIST_TEST_INDICES:
        Image.fromarray(images[i]).save(OUT / f"mnist-test-{i:05d}-digit-{labels[i]}.png")
    pen = data.pendigits_for(data.TEST_WRITERS)
    for ink, ruled, index in PHOTOS:
        rng = np.random.default_rng(index)
        digit = pen[index]
        size, height, center = synth.random_photo_layout(rng, EVAL_PHOTOS)
        strokes = synth.stroke_ink_map(digit, size, height, center, max(2, int(height * 0.05)))
        jpeg = synth.render_photo(strokes, rng, EVAL_PHOTOS, ink_kind=ink, paper="ruled" if ruled else "plain",
                                  output_side=900)
        (OUT / f"photo-{ink}-digit-{digit.label}.jpg").write_bytes(jpeg)


if __name__ == "__main__":
    main()
